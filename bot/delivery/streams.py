"""A worker over a Redis stream with a consumer group: at-least-once, never gives up on
transient errors, dead-letters permanent ones, and takes over a dead worker's entries.

Each entry is handled by `handle(fields) -> Outcome`. Transient failures stay pending and are
retried after exponential backoff with full jitter (attempts are counted in Redis, so the
backoff survives a worker's death). Entries left pending by a worker that died are claimed by
another once idle longer than the lease.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot import logs, metrics

log = logs.get("minsheng.delivery")

Fields = dict[str, str]


@dataclass(frozen=True, slots=True)
class Outcome:
    done: bool = True
    retry_after: float | None = None  # transient: try again (None: use the backoff)
    dead: str = ""  # permanent: the reason, and the entry goes to the dead-letter stream

    @classmethod
    def retry(cls, after: float | None = None) -> Outcome:
        return cls(done=False, retry_after=after)

    @classmethod
    def dead_letter(cls, reason: str) -> Outcome:
        return cls(done=False, dead=reason)


def backoff(attempt: int, base: float, cap: float) -> float:
    return random.uniform(base / 2, min(cap, base * 2 ** max(attempt - 1, 0)))


def _decode(raw: Any) -> Fields:
    return {k.decode(): v.decode() for k, v in raw.items()}


class StreamWorker:
    def __init__(
        self,
        redis: Redis,
        stream: str,
        handle: Callable[[Fields], Awaitable[Outcome]],
        consumer: str,
        group: str = "workers",
        lease_s: float = 120.0,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 60.0,
        concurrency: int = 16,
        block_ms: int = 1000,
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.dead_stream = f"{stream}:dead"
        self.attempts_key = f"{stream}:attempts"
        self.handle = handle
        self.consumer = consumer
        self.group = group
        self.lease_ms = int(lease_s * 1000)
        self.base = backoff_base_s
        self.cap = min(backoff_cap_s, lease_s / 2)  # a scheduled retry must come before the lease ends
        self.block_ms = block_ms
        self._slots = asyncio.Semaphore(concurrency)
        self._due: list[tuple[float, str]] = []  # (when, entry id): this worker's scheduled retries
        self._tasks: set[asyncio.Task[None]] = set()

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self) -> None:
        """Work until cancelled; a lost Redis connection pauses the worker, never ends it."""
        pause = self.base
        try:
            while True:
                try:
                    await self._work()
                except (RedisConnectionError, RedisTimeoutError) as exc:
                    log.warning("redis unavailable", stream=self.stream, error=type(exc).__name__)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 5.0)
                except ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    # The stream was deleted under us (a Redis without persistence restarted):
                    # start over with a fresh group.
                    log.warning("consumer group missing, recreating", stream=self.stream)
        finally:
            for task in self._tasks:
                task.cancel()

    async def _work(self) -> None:
        await self.ensure_group()
        last_claim = 0.0
        while True:
            now = time.monotonic()
            if now - last_claim > self.lease_ms / 2000:
                last_claim = now
                await self._claim_stale()
            await self._retry_due()
            timeout = self.block_ms
            if self._due:
                timeout = max(1, min(timeout, int((self._due[0][0] - time.monotonic()) * 1000)))
            entries: Any = await self.redis.xreadgroup(
                self.group, self.consumer, {self.stream: ">"}, count=32, block=timeout
            )
            for _, items in entries or []:
                for entry_id, raw in items:
                    self._spawn(entry_id.decode(), _decode(raw))

    async def drain(self) -> None:
        """Wait for the entries being handled right now (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, entry_id: str, fields: Fields) -> None:
        task = asyncio.create_task(self._process(entry_id, fields))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _claim_stale(self) -> None:
        start = "0-0"
        while True:
            reply: Any = await self.redis.xautoclaim(
                self.stream, self.group, self.consumer, min_idle_time=self.lease_ms, start_id=start, count=64
            )
            start, claimed = reply[0].decode(), reply[1]
            for entry_id, raw in claimed:
                if raw:  # an entry deleted meanwhile comes back empty
                    log.info("claimed stale entry", stream=self.stream)
                    self._spawn(entry_id.decode(), _decode(raw))
            if start == "0-0":
                return

    async def _retry_due(self) -> None:
        now = time.monotonic()
        while self._due and self._due[0][0] <= now:
            _, entry_id = heapq.heappop(self._due)
            # Claiming it again resets its idle time: it stays ours while we are alive.
            claimed: Any = await self.redis.xclaim(self.stream, self.group, self.consumer, 0, [entry_id])
            for claimed_id, raw in claimed:
                if raw:
                    self._spawn(claimed_id.decode(), _decode(raw))

    async def _process(self, entry_id: str, fields: Fields) -> None:
        async with self._slots:
            try:
                outcome = await self.handle(fields)
            except Exception:  # a bug in a handler must not stop the queue; it is retried
                log.exception("handler failed", stream=self.stream)
                outcome = Outcome.retry()
        try:
            await self._settle(entry_id, fields, outcome)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            # Still pending in Redis: it is claimed again once its lease runs out.
            log.warning("could not settle entry", stream=self.stream, error=type(exc).__name__)

    async def _settle(self, entry_id: str, fields: Fields, outcome: Outcome) -> None:
        if outcome.done:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.xack(self.stream, self.group, entry_id)
                pipe.xdel(self.stream, entry_id)
                pipe.hdel(self.attempts_key, entry_id)
                await pipe.execute()
            return
        if outcome.dead:
            dead = {**fields, "dead_reason": outcome.dead, "dead_at": datetime.now(UTC).isoformat(),
                    "source_id": entry_id}
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.xadd(self.dead_stream, dead)  # type: ignore[arg-type]
                pipe.xack(self.stream, self.group, entry_id)
                pipe.xdel(self.stream, entry_id)
                pipe.hdel(self.attempts_key, entry_id)
                await pipe.execute()
            metrics.DEAD_LETTERS.labels(self.stream).inc()
            log.warning("dead-lettered", stream=self.stream, reason=outcome.dead)
            return
        attempt = int(await self.redis.hincrby(self.attempts_key, entry_id, 1))
        wait = outcome.retry_after if outcome.retry_after is not None else backoff(attempt, self.base, self.cap)
        metrics.RETRIES.labels(self.stream).inc()
        heapq.heappush(self._due, (time.monotonic() + wait, entry_id))


async def dead_letters(redis: Redis, stream: str) -> list[tuple[str, Fields]]:
    entries: Any = await redis.xrange(f"{stream}:dead")
    return [(i.decode(), _decode(raw)) for i, raw in entries]


async def requeue(redis: Redis, stream: str, dead_id: str) -> bool:
    """Put a dead letter back on its stream (after the cause was fixed)."""
    entries: Any = await redis.xrange(f"{stream}:dead", dead_id, dead_id)
    if not entries:
        return False
    fields = {k: v for k, v in _decode(entries[0][1]).items() if k not in ("dead_reason", "dead_at", "source_id")}
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xadd(stream, fields)  # type: ignore[arg-type]
        pipe.xdel(f"{stream}:dead", dead_id)
        await pipe.execute()
    return True


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
