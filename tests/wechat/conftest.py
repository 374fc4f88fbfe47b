"""A local WeChat API server, the real bot app on loopback wired to it, residents that post XML."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from backend.service import NotFound
from bot.bootstrap import Bot, build
from bot.settings import load_settings
from bot.web import build_app
from dialogs.understanding import Understander
from tests.support.app import serve
from tests.support.wechat_api import AES_KEY, APP_ID, APP_SECRET, TOKEN, WeChatApiServer, WeChatResident, wechat_api


@dataclass
class World:
    bot: Bot
    base: str
    server: WeChatApiServer
    api_base: str
    session: aiohttp.ClientSession
    mode: str

    def resident(self, openid: str, mode: str | None = None, **kwargs: Any) -> WeChatResident:
        return WeChatResident(self.session, self.base, openid, self.server, mode or self.mode, **kwargs)


def wechat_settings(data_dir: Path, api_base: str, mode: str = "safe", **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "secret": "s",
        "wechat_token": TOKEN,
        "wechat_app_id": APP_ID,
        "wechat_app_secret": APP_SECRET,
        "wechat_aes_key": AES_KEY if mode != "plain" else "",
        "wechat_encrypt_mode": mode,
        "wechat_api_base": api_base,
    }
    values.update(overrides)
    return values


@asynccontextmanager
async def world(
    data_dir: Path, mode: str = "safe", understander: Understander | None = None, **overrides: object
) -> AsyncIterator[World]:
    async with wechat_api() as (server, api_base):
        settings = load_settings(**wechat_settings(data_dir, api_base, mode, **overrides))
        bot = build(settings, understander)
        await bot.redis.flushdb()
        await bot.start()  # the outbox to the backend and the push workers
        async with serve(build_app(bot)) as base, aiohttp.ClientSession() as session:
            yield World(bot, base, server, api_base, session, mode)


async def submitted_record(bot: Bot, suggestion_id: str) -> dict[str, Any]:
    """The record as the backend stored it (the outbox delivers it in the background)."""
    assert bot.office is not None
    for _ in range(250):
        try:
            found = await bot.office.get(suggestion_id)
        except NotFound:
            await asyncio.sleep(0.02)
            continue
        return dict(found["record"])
    raise AssertionError(f"{suggestion_id} never reached the backend")


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture(params=["embedded", "real"])
def redis_for(request: pytest.FixtureRequest) -> dict[str, object]:
    return {"redis_url": request.getfixturevalue("redis_url")} if request.param == "real" else {}
