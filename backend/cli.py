"""`minsheng backend ...`: serve the reference backend, and the staff's commands on its records."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from backend.app import build_backend_app
from backend.db import engine_for
from backend.events import EventSender, HttpEvents
from backend.migrate import upgrade
from backend.service import Invalid, NotFound, Office
from backend.settings import BackendSettings
from bot import logs


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    top = sub.add_parser("backend", help="the reference backend: serve it, or act on its records")
    actions = top.add_subparsers(dest="action", required=True)
    serve = actions.add_parser("serve", help="serve the backend API (BACKEND_HOST/BACKEND_PORT)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    status = actions.add_parser("set-status", help="move a suggestion to a later status (pushed to the resident)")
    status.add_argument("id")
    status.add_argument("status")
    status.add_argument("--note", default="")
    status.add_argument("--reply", default="", help="the office's reply, shown to the resident")
    invite = actions.add_parser("invite", help="invite the resident to discuss the suggestion (约请)")
    invite.add_argument("id")
    invite.add_argument("--when", required=True)
    invite.add_argument("--where", required=True)
    invite.add_argument("--contact", required=True)
    ask = actions.add_parser("ask", help="ask the resident a follow-up question")
    ask.add_argument("id")
    ask.add_argument("text")
    add_reading(actions)
    top.set_defaults(func=main)

    alias = sub.add_parser("suggestions", help="read stored suggestions (same as `minsheng backend list/show`)")
    add_reading(alias.add_subparsers(dest="action", required=True))
    alias.set_defaults(func=main)


def add_reading(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = actions.add_parser("list", help="list suggestions, newest first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--status")
    show = actions.add_parser("show", help="one suggestion with its record, history and messages")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")


def main(args: argparse.Namespace) -> int:
    settings = BackendSettings()
    logs.configure("INFO")
    if args.action == "serve":
        return serve(settings, args.host or settings.host, args.port or settings.port)
    url = settings.db_url()
    upgrade(url)
    try:
        return asyncio.run(_act(args, Office(engine_for(url))))
    except NotFound as exc:
        print(f"no suggestion {exc}", file=sys.stderr)
    except Invalid as exc:
        print(f"refused: {exc}", file=sys.stderr)
    return 1


async def _act(args: argparse.Namespace, office: Office) -> int:
    try:
        result = await _ACTIONS[args.action](args, office)
    finally:
        await office.close()
    if isinstance(result, str):
        print(result)
    elif getattr(args, "json", False) or args.action == "show":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for s in result:
            print(f"{s['id']}  {s['created_at'][:16]}  {s['status']:<17} {s['street'] or '-'}  {s['title']}")
    return 0


async def _status(args: argparse.Namespace, office: Office) -> str:
    await office.set_status(args.id, args.status, args.note, args.reply)
    return f"{args.id}: {args.status} (the resident will be told)"


async def _invite(args: argparse.Namespace, office: Office) -> str:
    invitation = await office.invite(args.id, args.when, args.where, args.contact)
    return f"{args.id}: invitation {invitation} sent"


async def _ask(args: argparse.Namespace, office: Office) -> str:
    question = await office.ask(args.id, args.text)
    return f"{args.id}: question {question} sent"


async def _list(args: argparse.Namespace, office: Office) -> list[dict[str, Any]]:
    return await office.list(args.limit, args.status)


async def _show(args: argparse.Namespace, office: Office) -> dict[str, Any]:
    return await office.get(args.id)


_ACTIONS: dict[str, Callable[[argparse.Namespace, Office], Awaitable[Any]]] = {
    "set-status": _status,
    "invite": _invite,
    "ask": _ask,
    "list": _list,
    "show": _show,
}


def serve(settings: BackendSettings, host: str, port: int) -> int:
    if not settings.secret:
        print("minsheng backend: BACKEND_SECRET is required to serve the API", file=sys.stderr)
        return 2
    url = settings.db_url()
    upgrade(url)
    office = Office(engine_for(url))
    events = HttpEvents(settings.bot_events_url, settings.secret)
    sender = EventSender(office, events)
    app = build_backend_app(office, sender, settings.secret, settings.admin_token)

    async def background(_: web.Application) -> Any:
        task = asyncio.create_task(sender.run())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await events.close()
        await office.close()

    app.cleanup_ctx.append(background)
    print(f"reference backend on http://{host}:{port}/ (contract: /openapi.yaml)")
    web.run_app(app, host=host, port=port, print=None)
    return 0
