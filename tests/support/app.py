"""Serve the real web app on 127.0.0.1 for tests, and talk to it over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

from bot.bootstrap import Bot, build
from bot.settings import Settings
from bot.web import build_app
from dialogs.understanding import Understander


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def running_bot(settings: Settings, understander: Understander | None = None) -> AsyncIterator[tuple[Bot, str]]:
    bot = build(settings, understander)
    async with serve(build_app(bot)) as base:  # the app's start-up starts the deliveries
        yield bot, base


class RestClient:
    """A resident on the REST channel."""

    def __init__(self, session: aiohttp.ClientSession, base: str, sender: str, language: str | None = None) -> None:
        self.session = session
        self.base = base
        self.sender = sender
        self.language = language
        self.last: list[dict[str, Any]] = []

    async def say(self, message: str, message_id: str | None = None) -> str:
        body: dict[str, Any] = {"sender": self.sender, "message": message}
        if message_id:
            body["message_id"] = message_id
        if self.language:
            body["metadata"] = {"language": self.language}
        async with self.session.post(f"{self.base}/webhooks/rest/webhook", json=body) as resp:
            assert resp.status == 200, await resp.text()
            self.last = await resp.json()
        return "\n".join(m["text"] for m in self.last)

    def buttons(self) -> list[dict[str, str]]:
        return [b for m in self.last for b in m.get("buttons", [])]

    async def press(self, title: str) -> str:
        (button,) = [b for b in self.buttons() if b["title"] == title]
        return await self.say(button["payload"])
