"""Build the Telegram connector from the settings and wire it into the web app."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand
from aiohttp import web
from redis.asyncio import Redis

from bot import logs
from bot.pipeline import Pipeline
from bot.settings import Settings
from bot.speech import HttpSpeechToText, NoSpeechToText, SpeechToText
from connectors.telegram.polling import Poller
from connectors.telegram.webhook import ALLOWED_UPDATES, PATH, TelegramConnector
from dialogs import catalog

log = logs.get("minsheng.telegram")

COMMANDS = ("start", "help", "status", "cancel", "lang")
STOP_TIMEOUT_S = 5.0


def build_telegram(settings: Settings, pipeline: Pipeline, redis: Redis) -> TelegramConnector:
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    bot = Bot(settings.telegram_bot_token, session=session)
    speech: SpeechToText = HttpSpeechToText(settings.stt_url) if settings.stt_url else NoSpeechToText()
    return TelegramConnector(bot, pipeline, redis, speech, webhook_secret=settings.telegram_webhook_secret)


def commands(lang: str) -> list[BotCommand]:
    return [BotCommand(command=name, description=catalog.text(lang, f"tg_cmd_{name}")) for name in COMMANDS]


async def announce(connector: TelegramConnector, webhook_url: str | None) -> None:
    """The command menu in both languages (Chinese clients get "zh", everyone else English),
    and the webhook with its secret when a public URL is configured."""
    bot = connector.bot
    await bot.set_my_commands(commands("en"))
    await bot.set_my_commands(commands("zh"), language_code="zh")
    if webhook_url:
        await bot.set_webhook(
            webhook_url,
            secret_token=connector.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
        log.info("telegram webhook registered")


@dataclass(slots=True)
class _Tasks:
    running: list[asyncio.Task[None]] = field(default_factory=list)


def register(app: web.Application, connector: TelegramConnector, webhook_url: str | None, polling: bool) -> None:
    """Webhook route (unless polling), start-up calls, the album sweeper and the poller."""
    if polling:
        webhook_url = None  # polling removes any webhook; registering one would undo it
    elif webhook_url and not connector.webhook_secret:
        raise ValueError("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL")
    if not polling:
        app.router.add_post(PATH, connector.webhook)
    tasks = _Tasks()

    async def start(_: web.Application) -> None:
        try:
            await announce(connector, webhook_url)
        except TelegramAPIError as exc:
            # Telegram unreachable must not keep the other channels down; say so loudly.
            log.error("telegram start-up calls failed", error=type(exc).__name__, detail=str(exc))
        tasks.running.append(asyncio.create_task(connector.albums.run(), name="telegram-albums"))
        if polling:
            poller = Poller(connector, timeout_s=connector.poll_timeout_s)
            tasks.running.append(asyncio.create_task(poller.run(), name="telegram-polling"))

    async def stop(_: web.Application) -> None:
        for task in tasks.running:
            task.cancel()
        if tasks.running:
            _done, stuck = await asyncio.wait(tasks.running, timeout=STOP_TIMEOUT_S)
            if stuck:
                log.error("telegram tasks did not stop", tasks=sorted(t.get_name() for t in stuck))
        for task in tasks.running:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("telegram task had failed", task=task.get_name(), error=repr(task.exception()))
        await connector.bot.session.close()

    app.on_startup.append(start)
    app.on_cleanup.insert(0, stop)  # before the Redis client closes
