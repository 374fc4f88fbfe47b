"""The real bot (bot.bootstrap.build + bot.web.build_app, as `minsheng run` builds it) against a
local Telegram Bot API server, with real Update JSON posted to the real webhook over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.bootstrap import Bot, build
from bot.nlu import build_understander
from bot.settings import load_settings
from bot.web import build_app
from connectors.telegram import TelegramConnector
from connectors.telegram.limiter import RateLimiter
from connectors.telegram.webhook import SECRET_HEADER, progress_key
from dialogs.messages import ConversationKey
from dialogs.understanding import Understander
from tests.support.app import serve
from tests.support.telegram_api import LocalBotApi, TgUser

SECRET = "webhook-secret_42"


@pytest.fixture(scope="session")
def nlu(tmp_path_factory: pytest.TempPathFactory) -> Understander:
    """The real NLU trained on nlu_data/ once per session."""
    return build_understander(None, tmp_path_factory.mktemp("nlu"))


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    server = await LocalBotApi().start()
    yield server
    await server.stop()


class Rig:
    """The running bot, its HTTP base URL and the local Bot API server."""

    def __init__(self, bot: Bot, base: str, api: LocalBotApi, http: aiohttp.ClientSession, polling: bool) -> None:
        self.bot = bot
        self.base = base
        self.api = api
        self.http = http
        self.polling = polling
        self._next = 5000

    @property
    def telegram(self) -> TelegramConnector:
        assert self.bot.telegram is not None
        return self.bot.telegram

    def next_id(self) -> int:
        self._next += 1
        return self._next

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with self.http.post(f"{self.base}/telegram", json=update, headers=headers) as resp:
            return resp.status

    async def deliver(self, update: dict[str, Any]) -> None:
        """Deliver one update the way this rig receives them, and wait until it is answered."""
        if self.polling:
            self.api.queue(update)
        else:
            assert await self.post(update) == 200
        await self.answered(update["update_id"])

    async def answered(self, update_id: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while await self.bot.redis.get(progress_key(update_id)) != b"done":
            assert time.monotonic() < deadline, f"update {update_id} was not answered"
            await asyncio.sleep(0.02)

    async def state(self, user: TgUser) -> Any:
        return (await self.bot.pipeline.snapshot(ConversationKey("telegram", str(user.id)))).state


class Resident:
    """One Telegram user talking to the rig."""

    def __init__(self, rig: Rig, user: TgUser) -> None:
        self.rig = rig
        self.user = user
        self.seen = 0

    async def send(self, update: dict[str, Any]) -> list[str]:
        await self.rig.deliver(update)
        texts = self.rig.api.texts(self.user.id)
        new, self.seen = texts[self.seen :], len(texts)
        return new

    async def say(self, text: str) -> str:
        return "\n".join(await self.send(self.user.text(self.rig.next_id(), text)))

    def buttons(self) -> dict[str, str]:
        """Title → callback_data of the inline keyboard on the latest message that has one."""
        calls = self.rig.api.of("sendMessage", "sendPhoto", "editMessageReplyMarkup")
        for call in reversed([c for c in calls if int(c.params["chat_id"]) == self.user.id]):
            markup = call.params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}
        return {}

    async def press(self, title: str) -> str:
        data = self.buttons()[title]
        return "\n".join(await self.send(self.user.press(self.rig.next_id(), data)))


@asynccontextmanager
async def rig_for(
    api: LocalBotApi,
    data_dir: Path,
    nlu: Understander,
    redis_url: str | None = None,
    polling: bool = False,
    webhook_url: str | None = None,
    fresh: bool = True,
) -> AsyncIterator[Rig]:
    settings = load_settings(
        data_dir=data_dir,
        secret="s",
        redis_url=redis_url,
        telegram_bot_token=api.token,
        telegram_webhook_secret=SECRET,
        telegram_api_base=api.base,
        telegram_webhook_url=webhook_url,
    )
    bot = build(settings, nlu)
    if fresh:
        await bot.redis.flushdb()
    assert bot.telegram is not None
    bot.telegram.albums.window_s = 0.3
    bot.telegram.albums.sweep_s = 0.05
    bot.telegram.poll_timeout_s = 1
    # Residents here type faster than people: Telegram's per-chat pace has its own test.
    bot.telegram.sender.limiter = RateLimiter(per_chat=1000, chat_burst=1000)
    app = build_app(bot, telegram_polling=polling)
    async with serve(app) as base, aiohttp.ClientSession() as http:
        yield Rig(bot, base, api, http, polling)


@pytest.fixture
async def rig(api: LocalBotApi, data_dir: Path, nlu: Understander, redis_url: str) -> AsyncIterator[Rig]:
    async with rig_for(api, data_dir, nlu, redis_url) as running:
        yield running
