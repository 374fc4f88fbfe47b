from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.storage import connect
from tests.support.redis_server import RedisServer


@pytest.fixture(scope="session", autouse=True)
def shared_nlu_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Train the NLU once per test session, for in-process bots and `minsheng` child processes."""
    previous = os.environ.get("NLU_CACHE_DIR")
    os.environ["NLU_CACHE_DIR"] = str(tmp_path_factory.mktemp("nlu-cache"))
    yield
    if previous is None:
        os.environ.pop("NLU_CACHE_DIR", None)
    else:
        os.environ["NLU_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for the session: CI's (MINSHENG_TEST_REDIS_URL) or one we start."""
    given = os.environ.get("MINSHENG_TEST_REDIS_URL")
    if given:
        yield given
        return
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture(params=["embedded", "real"])
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    """The same contract on the embedded store and on a real redis-server."""
    url = None if request.param == "embedded" else request.getfixturevalue("redis_url")
    client = connect(url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path
