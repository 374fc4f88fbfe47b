"""Redis stream reads with plain, decoded results (redis-py's own types are loose unions)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

Entry = tuple[str, dict[str, str]]


def s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def entries(raw: Any) -> list[Entry]:
    """[(id, fields)] decoded; entries deleted from a pending list (fields None) are dropped."""
    return [(s(i), {s(k): s(v) for k, v in f.items()}) for i, f in (raw or []) if f]


async def read(redis: Redis, streams: dict[str, str], block: int | None = None, count: int | None = None,
               group: tuple[str, str] | None = None) -> list[tuple[str, list[Entry]]]:
    """XREAD (or XREADGROUP with group=(group, consumer)) → [(stream, entries)]."""
    ids: Any = streams
    if group is None:
        raw: Any = await redis.xread(ids, count=count, block=block)
    else:
        raw = await redis.xreadgroup(group[0], group[1], ids, count=count, block=block)
    return [(s(name), entries(items)) for name, items in (raw or [])]


async def latest(redis: Redis, name: str, count: int) -> list[Entry]:
    """The last `count` entries, oldest first."""
    raw: Any = await redis.xrevrange(name, count=count)
    return list(reversed(entries(raw)))
