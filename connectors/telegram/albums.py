"""Albums: Telegram sends each photo of an album as its own update sharing a media_group_id;
the resident sent ONE message, so the bot runs ONE turn with all its photos.

Each photo is persisted in Redis before its update is acknowledged (a hash per album keyed by
update_id, so a re-delivery adds nothing twice) and the album is scheduled in a sorted set,
due `window_s` after its latest photo. A sweeper flushes due albums: it closes the album and
reads its photos in one transaction, runs the turn, then unschedules it. A photo arriving
after the close gets a turn of its own. We do not hold the first update's webhook request
open for the window: Telegram may deliver the album's updates one after the other over one
connection, and a crash mid-window loses nothing, since the next sweep (any worker) flushes it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from redis.asyncio import Redis

from bot import logs

log = logs.get("minsheng.telegram")

PENDING_KEY = "ms:tg:albums"
ALBUM_TTL_S = 3 * 86400
RETRY_AFTER_FAILURE_S = 5.0

# KEYS: items hash, closed flag, pending zset. ARGV: update_id, item, due, ttl, group id.
_ADD = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'collected' end
  return 'late'
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[5])
return 'buffered'
"""

Outcome = Literal["buffered", "late", "collected"]
Flush = Callable[[str, list[dict[str, Any]]], Awaitable[None]]


def items_key(group: str) -> str:
    return f"ms:tg:album:{group}:items"


def closed_key(group: str) -> str:
    return f"ms:tg:album:{group}:closed"


class Albums:
    def __init__(self, redis: Redis, flush: Flush, window_s: float = 1.0, sweep_s: float = 0.25) -> None:
        self.redis = redis
        self.flush = flush  # runs the album's turn with its items, ordered by update_id
        self.window_s = window_s
        self.sweep_s = sweep_s

    async def add(self, group: str, update_id: int, item: dict[str, Any]) -> Outcome:
        """Persist one photo of album `group`. "late": the album was already flushed without
        it (give it a turn of its own); "collected": a re-delivery of a flushed photo."""
        due = time.time() + self.window_s
        raw = await self.redis.eval(
            _ADD,
            3,
            items_key(group),
            closed_key(group),
            PENDING_KEY,
            str(update_id),
            json.dumps(item, ensure_ascii=False),
            str(due),
            str(ALBUM_TTL_S),
            group,
        )
        outcome: Outcome = raw.decode() if isinstance(raw, bytes) else str(raw)  # type: ignore[assignment]
        return outcome

    async def sweep(self) -> int:
        """Flush every album that is due; returns how many were flushed."""
        due = await self.redis.zrangebyscore(PENDING_KEY, "-inf", time.time())
        flushed = 0
        for raw in due:
            group = raw.decode() if isinstance(raw, bytes) else str(raw)
            lock = self.redis.lock(f"ms:tg:album:{group}:lock", timeout=120, blocking_timeout=0)
            if not await lock.acquire(blocking=False):
                continue  # another worker is flushing it
            try:
                await self._flush_one(group)
                flushed += 1
            except Exception:
                # Kept scheduled: retried later (the pipeline de-duplicates the turn).
                log.exception("album flush failed; will retry")
                await self.redis.zadd(PENDING_KEY, {group: time.time() + RETRY_AFTER_FAILURE_S})
            finally:
                await lock.release()
        return flushed

    async def _flush_one(self, group: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(closed_key(group), b"1", ex=ALBUM_TTL_S)
            pipe.hgetall(items_key(group))
            _, raw_items = await pipe.execute()
        items = [json.loads(v) for _, v in sorted(raw_items.items(), key=lambda kv: int(kv[0]))]
        if items:
            await self.flush(group, items)
        await self.redis.zrem(PENDING_KEY, group)

    async def run(self) -> None:
        """The sweeper loop, until cancelled."""
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("album sweep failed")
            await asyncio.sleep(self.sweep_s)
