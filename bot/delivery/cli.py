"""`minsheng outbox ...`: inspect and retry dead letters (entries the backend refused for good)."""

from __future__ import annotations

import argparse
import asyncio
import json

from bot.delivery.outbox import OUTBOX
from bot.delivery.pushes import push_stream
from bot.delivery.streams import dead_letters, requeue
from bot.settings import load_settings
from bot.storage import connect


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    top = sub.add_parser("outbox", help="dead letters of the outbox (or of a channel's pushes)")
    actions = top.add_subparsers(dest="action", required=True)
    dead = actions.add_parser("dead", help="list dead letters")
    dead.add_argument("--json", action="store_true")
    dead.add_argument("--pushes", metavar="CHANNEL", help="a channel's push queue instead of the outbox")
    retry = actions.add_parser("retry", help="put dead letters back on their queue")
    retry.add_argument("ids", nargs="*", help="dead-letter ids (default: all)")
    retry.add_argument("--pushes", metavar="CHANNEL")
    top.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(_main(args))


async def _main(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.redis_url:
        print("minsheng outbox: needs REDIS_URL (the embedded store lives inside `minsheng run`)")
        return 2
    redis = connect(settings.redis_url)
    stream = push_stream(args.pushes) if args.pushes else OUTBOX
    try:
        letters = await dead_letters(redis, stream)
        if args.action == "dead":
            if args.json:
                print(json.dumps([{"dead_id": i, **f} for i, f in letters], ensure_ascii=False, indent=2))
            for dead_id, fields in [] if args.json else letters:
                print(f"{dead_id}  {fields.get('type', '-')}  {fields.get('id', '-')}  {fields.get('dead_reason')}")
            return 0
        wanted = set(args.ids) or {i for i, _ in letters}
        moved = [i for i in sorted(wanted) if await requeue(redis, stream, i)]
        print(f"requeued {len(moved)} of {len(wanted)}")
        return 0 if len(moved) == len(wanted) else 1
    finally:
        await redis.aclose()
