"""The `minsheng` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from bot import logs
from bot.settings import Settings, SettingsError, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {k: v for k, v in (("host", getattr(args, "host", None)), ("port", getattr(args, "port", None))) if v}
    settings = load_settings(**overrides)
    logs.configure(settings.log_level, settings.log_json)
    return settings


def _run(args: argparse.Namespace) -> int:
    from bot.bootstrap import build
    from bot.web import AccessLogger, build_app

    settings = _settings(args)
    polling = bool(getattr(args, "telegram_polling", False))
    _check_telegram(settings, polling)
    bot = build(settings)
    where = f"http://{settings.host}:{settings.port}/"
    print(f"民声 is running: chat in the browser at {where} (REST channel: {where}webhooks/rest/webhook)")
    if bot.telegram is not None:
        print("Telegram: " + ("long polling" if polling else f"webhook at {where}telegram"))
    import uvloop  # a faster event loop for the server (asyncio's API, libuv underneath)

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(
        build_app(bot, telegram_polling=polling), host=settings.host, port=settings.port, print=None,
        access_log_class=AccessLogger,
    )
    return 0


def _check_telegram(settings: Settings, polling: bool) -> None:
    if polling and not settings.telegram_bot_token:
        raise SettingsError("--telegram-polling needs TELEGRAM_BOT_TOKEN")
    if settings.telegram_bot_token and not polling and not settings.telegram_webhook_secret:
        raise SettingsError("TELEGRAM_WEBHOOK_SECRET is required for the Telegram webhook (or use --telegram-polling)")


def _chat(args: argparse.Namespace) -> int:
    from bot.bootstrap import build
    from connectors.terminal import chat

    settings = _settings(args)

    async def main() -> None:
        bot = build(settings)
        await bot.start()
        try:
            await chat(bot.pipeline, args.sender, bot.inbox("terminal"))
        finally:
            await bot.close()

    asyncio.run(main())
    return 0


def _nlu(args: argparse.Namespace) -> int:
    from bot.nlu.evaluate import main

    code: int = main(args.rest)
    return code


def _wechat(args: argparse.Namespace) -> int:
    from connectors.wechat.api import ApiError
    from connectors.wechat.tools import run_tool

    settings = _settings(args)
    try:
        print(asyncio.run(run_tool(settings, args.action, getattr(args, "scene", ""), getattr(args, "out", None))))
    except (ApiError, ValueError) as exc:
        print(f"minsheng wechat {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="minsheng", description="民声: Jing'an's suggestion intake bot")
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="serve the webhooks, REST channel and web chat")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.add_argument("--telegram-polling", action="store_true", help="get Telegram updates by long polling")
    run.set_defaults(func=_run)

    chat = sub.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument("--sender", default="local-user", help="who you are to the bot")
    chat.set_defaults(func=_chat)

    from backend.cli import add_parsers as add_backend
    from bot.delivery.cli import add_parsers as add_outbox
    from bot.outreach_cli import add_parsers as add_outreach
    from bot.staff.cli import add_parsers as add_staff

    add_backend(sub)
    add_outbox(sub)
    add_staff(sub)
    add_outreach(sub)  # campaigns, points, report (issue 9)

    wechat = sub.add_parser("wechat", help="WeChat tools: create the menu, make a collection point's QR code")
    wechat_sub = wechat.add_subparsers(dest="action", required=True)
    wechat_sub.add_parser("menu", help="create the account's menu from connectors/wechat/menu.json")
    qr = wechat_sub.add_parser("qrcode", help="a permanent QR code for a collection point, saved as PNG")
    qr.add_argument("--scene", required=True, help="the collection point (recorded as the suggestion's source)")
    qr.add_argument("--out", type=Path, help="PNG file (default: qrcode-<scene>.png)")
    wechat.set_defaults(func=_wechat)

    nlu = sub.add_parser("nlu", help="NLU tools: `minsheng nlu eval [--civic]`")
    nlu.add_argument("rest", nargs=argparse.REMAINDER)
    nlu.set_defaults(func=_nlu)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except SettingsError as exc:
        print(f"minsheng: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
