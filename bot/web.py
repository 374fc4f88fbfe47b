"""The one web server of the process: every HTTP surface registers its routes here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.bootstrap import Bot
from bot.nlu.http import parse_handler
from bot.storage import LockTimeout
from connectors.rest import RestChannel

BOT_KEY = web.AppKey("bot", Bot)
STATIC = Path(__file__).resolve().parent.parent / "connectors" / "static"


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except LockTimeout:
        # The conversation is busy beyond our wait: the platform (or client) should retry.
        return web.json_response({"error": "conversation busy, retry"}, status=503)


def build_app(bot: Bot) -> web.Application:
    app = web.Application(middlewares=[_errors], client_max_size=1024**2)
    app[BOT_KEY] = bot
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/", _chat_page)
    app.router.add_post("/model/parse", parse_handler(bot.understander))
    RestChannel(bot.pipeline).register(app)

    async def _close(_: web.Application) -> None:
        await bot.close()

    app.on_cleanup.append(_close)
    return app


async def _healthz(request: web.Request) -> web.Response:
    bot = request.app[BOT_KEY]
    try:
        await bot.redis.ping()
    except Exception as exc:  # report, don't crash: a health check must answer
        return web.json_response({"status": "error", "redis": type(exc).__name__}, status=503)
    return web.json_response({"status": "ok"})


async def _metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _chat_page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "chat.html")
