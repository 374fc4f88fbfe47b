"""Conversation state and per-conversation locks on Redis (a real server or the embedded one).

Two small ports, as in aiogram: `StateStore` (load/save a conversation's envelope, queueing
effects in the same transaction) and `ConversationLocks` (an exclusive, expiring, owner-only
lock). One implementation serves both a real redis-server and the in-process embedded store.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import LockError

from bot import logs
from dialogs.messages import ConversationKey, Outbound
from dialogs.state import ConversationState

log = logs.get("minsheng.storage")


def state_key(key: ConversationKey) -> str:
    return f"ms:state:{key.render()}"


def lock_key(key: ConversationKey) -> str:
    return f"ms:lock:{key.render()}"


@dataclass(slots=True)
class Envelope:
    """What is stored per conversation: the dialog state and the answers to recent messages.

    Keeping the answers next to the state lets a re-delivered message get the same answer in
    the same transaction that saved its effect: no second turn, even across worker crashes.
    """

    state: ConversationState = field(default_factory=ConversationState)
    recent: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)

    def answer_to(self, message_id: str) -> list[Outbound] | None:
        for seen, answer in self.recent:
            if seen == message_id:
                return [Outbound.from_dict(o) for o in answer]
        return None

    def remember(self, message_id: str, answer: list[Outbound], keep: int) -> None:
        self.recent.append((message_id, [o.to_dict() for o in answer]))
        del self.recent[:-keep]

    def dumps(self) -> str:
        return json.dumps({"state": self.state.to_dict(), "recent": self.recent}, ensure_ascii=False)

    @classmethod
    def loads(cls, raw: str | bytes | None) -> Envelope:
        if not raw:
            return cls()
        data = json.loads(raw)
        recent = [(str(m), list(a)) for m, a in data.get("recent", [])]
        return cls(ConversationState.from_dict(data["state"]), recent)


@dataclass(frozen=True, slots=True)
class Queued:
    """An entry for a durable stream, written atomically with the state."""

    stream: str
    fields: dict[str, str]


class StateStore(Protocol):
    async def load(self, key: ConversationKey) -> Envelope: ...

    async def save(self, key: ConversationKey, envelope: Envelope, queued: list[Queued] = ...) -> None: ...


class LockTimeout(Exception):
    """The conversation stayed locked longer than we are willing to wait."""


class RedisStateStore:
    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def load(self, key: ConversationKey) -> Envelope:
        return Envelope.loads(await self.redis.get(state_key(key)))

    async def save(self, key: ConversationKey, envelope: Envelope, queued: list[Queued] | None = None) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(state_key(key), envelope.dumps(), ex=self.ttl_s)
            for entry in queued or ():
                pipe.xadd(entry.stream, entry.fields)  # type: ignore[arg-type]
            await pipe.execute()


class RedisLocks:
    """Exclusive per-conversation locks: FIFO inside a process, Redis-wide across workers.

    The Redis lock (token-owned, released by a compare-and-delete script) expires on its own
    if a worker dies. In front of it an asyncio.Lock per key queues this process's turns in
    arrival order, so concurrent messages of one resident are never reordered by retry luck.
    """

    def __init__(self, redis: Redis, timeout_s: float, wait_s: float) -> None:
        self.redis = redis
        self.timeout_s = timeout_s
        self.wait_s = wait_s
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: ConversationKey) -> AsyncIterator[None]:
        name = lock_key(key)
        local, users = self._local.get(name, (asyncio.Lock(), 0))
        self._local[name] = (local, users + 1)
        try:
            async with local:
                lock = self.redis.lock(name, timeout=self.timeout_s, sleep=0.002, blocking_timeout=self.wait_s)
                if not await lock.acquire():
                    raise LockTimeout(name)
                try:
                    yield
                finally:
                    try:
                        await lock.release()
                    except LockError:
                        # Expired while held: another owner may hold it now; never free theirs.
                        log.warning("lock expired before release", timeout_s=self.timeout_s)
        finally:
            local, users = self._local[name]
            if users <= 1:
                del self._local[name]
            else:
                self._local[name] = (local, users - 1)


def connect(url: str | None) -> Redis:
    """A real server by URL, or the embedded in-process server when no URL is given."""
    if url:
        client: Redis = Redis.from_url(url, decode_responses=False)
        return client
    import fakeredis  # the embedded default: same client API, no server to install

    embedded: Redis = fakeredis.FakeAsyncRedis(decode_responses=False)
    return embedded
