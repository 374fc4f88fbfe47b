"""Whole conversations over the REST channel, with the real NLU trained from nlu_data/."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.bootstrap import Bot
from bot.nlu import build_understander
from bot.pipeline import ESCALATION_STREAM
from bot.settings import load_settings
from dialogs.understanding import Understander
from tests.support.app import RestClient, running_bot


@pytest.fixture(scope="session")
def understander(tmp_path_factory: pytest.TempPathFactory) -> Understander:
    """The real NLU, trained once for the session."""
    return build_understander(None, tmp_path_factory.mktemp("nlu"))


Chat = Callable[..., AbstractAsyncContextManager[tuple[Bot, Callable[..., RestClient]]]]


@pytest.fixture
def chat(understander: Understander, data_dir: Path) -> Chat:
    """`async with chat() as (bot, resident): alice = resident("alice")` — the app served on
    127.0.0.1 as `minsheng run` builds it, residents talking to it over HTTP."""

    @asynccontextmanager
    async def open_chat(**overrides: Any) -> AsyncIterator[tuple[Bot, Callable[..., RestClient]]]:
        settings = load_settings(data_dir=data_dir, secret="s", **overrides)
        async with running_bot(settings, understander) as (bot, base), aiohttp.ClientSession() as session:
            if not overrides.get("redis_url"):
                await bot.redis.flushdb()

            def resident(sender: str, language: str | None = None) -> RestClient:
                return RestClient(session, base, sender, language)

            yield bot, resident

    return open_chat


async def escalations(bot: Bot) -> list[dict[str, str]]:
    """Escalations queued for staff, oldest first."""
    entries = await bot.redis.xrange(ESCALATION_STREAM)
    out = []
    for _, fields in entries:
        out.append({(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                    for k, v in fields.items()})
    return out
