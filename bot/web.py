"""The one web server of the process: every HTTP surface registers its routes here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.bootstrap import Bot
from bot.nlu.http import parse_handler
from bot.storage import LockTimeout
from connectors.rest import RestChannel

BOT_KEY = web.AppKey("bot", Bot)


class AccessLogger(AbstractAccessLogger):
    """Method, path, status and time only: query strings carry personal data (WeChat's openid)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)
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


def build_app(bot: Bot, telegram_polling: bool = False) -> web.Application:
    app = web.Application(middlewares=[_errors], client_max_size=1024**2)
    app[BOT_KEY] = bot
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/", _chat_page)
    app.router.add_post("/model/parse", parse_handler(bot.understander))
    app.router.add_post("/backend/events", bot.intake.handler)
    RestChannel(bot.pipeline, bot.inbox("rest")).register(app)
    if bot.staff is not None:
        from bot.staff.console import mount

        mount(app, bot.staff)  # /staff: the staff console (its intake of escalations starts with the app)
    if bot.office is not None and bot.events is not None:
        # The embedded reference backend's API (staff status changes, invitations, questions).
        from backend.app import build_backend_app

        office_app = build_backend_app(
            bot.office, bot.events, bot.settings.signing_secret(), bot.settings.backend_admin_token
        )
        app.add_subapp("/office", office_app)
    if bot.wechat is not None:
        bot.wechat.register(app)  # GET/POST /wechat; its cleanup runs before bot.close()
    if bot.telegram is not None:
        from connectors.telegram import register

        # POST /telegram (or long polling), start-up calls; its cleanup runs before bot.close()
        register(app, bot.telegram, bot.settings.telegram_webhook_url, telegram_polling)

    async def _start(_: web.Application) -> None:
        await bot.start()

    async def _close(_: web.Application) -> None:
        await bot.close()

    app.on_startup.append(_start)
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
