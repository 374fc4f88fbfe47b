"""The `minsheng` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

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
    from bot.web import build_app

    settings = _settings(args)
    bot = build(settings)
    where = f"http://{settings.host}:{settings.port}/"
    print(f"民声 is running: chat in the browser at {where} (REST channel: {where}webhooks/rest/webhook)")
    web.run_app(build_app(bot), host=settings.host, port=settings.port, print=None)
    return 0


def _chat(args: argparse.Namespace) -> int:
    from bot.bootstrap import build
    from connectors.terminal import chat

    settings = _settings(args)

    async def main() -> None:
        bot = build(settings)
        try:
            await chat(bot.pipeline, args.sender)
        finally:
            await bot.close()

    asyncio.run(main())
    return 0


def _suggestions(args: argparse.Namespace) -> int:
    from bot.backend.local import LocalBackend

    settings = _settings(args)
    backend = LocalBackend(settings.data_dir / "suggestions.db")
    if args.action == "list":
        records = asyncio.run(backend.list(args.limit))
        if args.json:
            print(json.dumps([r.to_dict() for r in records], ensure_ascii=False, indent=2))
        else:
            for r in records:
                print(f"{r.id}  {r.submitted_at[:16]}  {r.street or '-'}  {r.title}")
        return 0
    record = asyncio.run(backend.get(args.id))
    if record is None:
        print(f"no suggestion {args.id}", file=sys.stderr)
        return 1
    print(json.dumps(record.to_dict(), ensure_ascii=False, indent=2 if args.json else None))
    return 0


def _nlu(args: argparse.Namespace) -> int:
    from bot.nlu.evaluate import main

    code: int = main(args.rest)
    return code


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="minsheng", description="民声: Jing'an's suggestion intake bot")
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="serve the webhooks, REST channel and web chat")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.set_defaults(func=_run)

    chat = sub.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument("--sender", default="local-user", help="who you are to the bot")
    chat.set_defaults(func=_chat)

    sugg = sub.add_parser("suggestions", help="read stored suggestions (embedded backend)")
    sugg_sub = sugg.add_subparsers(dest="action", required=True)
    lst = sugg_sub.add_parser("list")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--limit", type=int, default=100)
    show = sugg_sub.add_parser("show")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    sugg.set_defaults(func=_suggestions)

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
