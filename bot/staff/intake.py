"""Consumes `ms:escalations` (written by the pipeline with the conversation's state) into cases,
with a consumer group: every worker runs one consumer, an entry is acknowledged once its case
exists, and entries left pending by a dead worker are claimed after a minute."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot import logs
from bot.staff import rstream
from bot.staff.notify import Notifier
from bot.staff.queue import Cases

log = logs.get("minsheng.staff.intake")

GROUP = "staff"
IDLE_MS = 60_000


class Intake:
    def __init__(self, redis: Redis, stream: str, cases: Cases, notifier: Notifier, block_ms: int = 1000) -> None:
        self.redis = redis
        self.stream = stream
        self.cases = cases
        self.notifier = notifier
        self.block_ms = block_ms
        self.consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._task: asyncio.Task[None] | None = None

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def once(self, block_ms: int | None = None) -> int:
        """Read and handle one batch: first our own pending entries, then entries idle too long
        at a dead consumer, then new ones. Returns how many were handled."""
        entries = await self._read("0", None)
        if not entries:
            claimed: Any = await self.redis.xautoclaim(self.stream, GROUP, self.consumer, IDLE_MS, "0-0", count=50)
            entries = rstream.entries(claimed[1]) if claimed else []
        if not entries:
            entries = await self._read(">", self.block_ms if block_ms is None else block_ms)
        for entry_id, fields in entries:
            await self._handle(entry_id, fields)
        return len(entries)

    async def _read(self, start: str, block: int | None) -> list[rstream.Entry]:
        got = await rstream.read(self.redis, {self.stream: start}, block, 50, (GROUP, self.consumer))
        return got[0][1] if got else []

    async def _handle(self, entry_id: str, fields: dict[str, str]) -> None:
        opened = await self.cases.open(entry_id, fields)
        await self.redis.xack(self.stream, GROUP, entry_id)
        if opened.code:
            log.info("case opened" if opened.code == 1 else "case updated", case=opened.case_id,
                     reason=fields.get("reason"), urgent=fields.get("urgent") == "1")
        if (opened.code == 1 and fields.get("urgent") == "1") or opened.code == 3:
            case = await self.cases.get(opened.case_id)
            if case is not None and self.notifier.configured:
                await self.notifier.urgent(case)

    async def run(self) -> None:
        await self.ensure_group()
        while True:
            try:
                await self.once()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep consuming: a bad entry or a Redis blip must not stop the queue
                log.exception("escalation intake failed")
                await asyncio.sleep(1)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
