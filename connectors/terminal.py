"""A terminal chat for trying the bot: type answers, choices are shown numbered.

Works interactively and with piped stdin (one message per line).
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import TextIO

from bot.pipeline import Pipeline
from connectors.render import numbered
from connectors.rest import Inbox
from dialogs.messages import ConversationKey, Inbound, Outbound

CHANNEL = "terminal"


async def chat(
    pipeline: Pipeline, sender: str, inbox: Inbox, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    key = ConversationKey(CHANNEL, sender)
    interactive = stdin.isatty()

    def show(messages: list[Outbound]) -> None:
        for message in messages:
            stdout.write("民声: " + numbered(message).replace("\n", "\n      ") + "\n")
        stdout.flush()

    async def pushes() -> None:
        # Status changes, invitations and questions arrive while the resident is typing.
        while True:
            show(await inbox.collect(sender))
            await asyncio.sleep(1)

    async def turn(text: str) -> None:
        payload = text.strip() if text.strip().startswith("/") else None
        inbound = Inbound(key, f"terminal:{uuid.uuid4().hex}", "" if payload else text, payload)
        show((await pipeline.handle(inbound)).messages)

    await turn("你好")
    watcher = asyncio.create_task(pushes()) if interactive else None
    loop = asyncio.get_running_loop()
    try:
        while True:
            if interactive:
                stdout.write("> ")
                stdout.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            if line.strip():
                if not interactive:
                    stdout.write(f"> {line.rstrip()}\n")
                await turn(line.rstrip("\n"))
    finally:
        if watcher is not None:
            watcher.cancel()
