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
from dialogs.messages import ConversationKey, Inbound

CHANNEL = "terminal"


async def chat(pipeline: Pipeline, sender: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    key = ConversationKey(CHANNEL, sender)
    interactive = stdin.isatty()

    async def turn(text: str) -> None:
        payload = text.strip() if text.strip().startswith("/") else None
        inbound = Inbound(key, f"terminal:{uuid.uuid4().hex}", "" if payload else text, payload)
        for message in (await pipeline.handle(inbound)).messages:
            stdout.write("民声: " + numbered(message).replace("\n", "\n      ") + "\n")
        stdout.flush()

    await turn("你好")
    loop = asyncio.get_running_loop()
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
