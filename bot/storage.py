"""Conversation state under a per-conversation lock, on Redis (a real server or the embedded one).

A turn is two round trips: `turn()` takes the lock and reads the state in one pipeline; `save`
writes the state, queues the turn's effects and frees the lock in one Lua script that first
checks the lock is still ours (a fencing check: a worker whose lock expired mid-turn cannot
overwrite what the next owner saved). The lock expires by itself if its worker dies.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import BlockingConnectionPool, Redis

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
    the same transaction that saved its effects: no second turn, even across worker crashes.
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

    def dumps(self) -> bytes:
        return orjson.dumps({"state": self.state.to_dict(), "recent": self.recent})

    @classmethod
    def loads(cls, raw: str | bytes | None) -> Envelope:
        if not raw:
            return cls()
        data = orjson.loads(raw)
        recent = [(str(m), list(a)) for m, a in data.get("recent", [])]
        return cls(ConversationState.from_dict(data["state"]), recent)


@dataclass(frozen=True, slots=True)
class Queued:
    """A write done atomically with the state: an entry added to a durable stream
    (op "xadd"), or fields set in a hash (op "hset")."""

    stream: str
    fields: dict[str, str]
    op: str = "xadd"
    maxlen: int = 0  # xadd: keep about this many entries (0: all)
    ttl_s: int = 0  # set the key's time to live (0: leave it)


class LockTimeout(Exception):
    """The conversation stayed locked longer than we are willing to wait."""


class LockLost(Exception):
    """The lock expired during the turn and nothing was saved; the message should be retried."""


# KEYS: lock, state, then one key per queued write; ARGV: token, state json, ttl seconds, then
# per write its op ("xadd" | "hset"), its fields as JSON, a maxlen and a ttl (0: none).
_SAVE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
for i = 3, #KEYS do
  local at = 4 + (i - 3) * 4
  local op, maxlen, ttl = ARGV[at], tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  local fields = cjson.decode(ARGV[at + 1])
  local flat = {}
  for k, v in pairs(fields) do flat[#flat + 1] = k; flat[#flat + 1] = v end
  if op == 'hset' then
    redis.call('HSET', KEYS[i], unpack(flat))
  elseif maxlen > 0 then
    redis.call('XADD', KEYS[i], 'MAXLEN', '~', maxlen, '*', unpack(flat))
  else
    redis.call('XADD', KEYS[i], '*', unpack(flat))
  end
  if ttl > 0 then redis.call('EXPIRE', KEYS[i], ttl) end
end
redis.call('DEL', KEYS[1])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    """One conversation, locked: its stored envelope and the way to save it."""

    def __init__(
        self, store: ConversationStore, key: ConversationKey, token: str, envelope: Envelope,
        peeked: tuple[bytes | None, ...] = (),
    ) -> None:
        self.store = store
        self.key = key
        self.token = token
        self.envelope = envelope
        self.peeked = peeked  # the values of the keys asked for with turn(..., peek=...)
        self.closed = False

    async def save(self, queued: list[Queued] | None = None) -> None:
        entries = queued or []
        keys = [lock_key(self.key), state_key(self.key), *(e.stream for e in entries)]
        args: list[str | bytes | int] = [self.token, self.envelope.dumps(), self.store.ttl_s]
        for entry in entries:
            args += [entry.op, json.dumps(entry.fields), entry.maxlen, entry.ttl_s]
        saved = await self.store.save_script(keys=keys, args=args)
        self.closed = True
        if not saved:
            raise LockLost(self.key.channel)


class ConversationStore:
    """Per-conversation state and locks: FIFO inside a process, exclusive across workers.

    An asyncio.Lock per key queues this process's turns in arrival order, so concurrent
    messages of one resident are never reordered by retry luck; the Redis lock (token-owned,
    expiring) excludes other workers.
    """

    def __init__(self, redis: Redis, ttl_s: int, lock_timeout_s: float = 30, lock_wait_s: float = 10) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self.lock_ms = int(lock_timeout_s * 1000)
        self.wait_s = lock_wait_s
        self.save_script = redis.register_script(_SAVE)
        self.release_script = redis.register_script(_RELEASE)
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}

    async def load(self, key: ConversationKey) -> Envelope:
        """Read without locking (tools, tests, staff views)."""
        return Envelope.loads(await self.redis.get(state_key(key)))

    @asynccontextmanager
    async def turn(self, key: ConversationKey, peek: Sequence[str] = ()) -> AsyncIterator[Lease]:
        """Lock the conversation and read its envelope, plus the `peek` keys' values in the same
        round trip (e.g. whether staff hold the conversation)."""
        name = lock_key(key)
        local, users = self._local.get(name, (asyncio.Lock(), 0))
        self._local[name] = (local, users + 1)
        try:
            async with local:
                lease = await self._acquire(key, peek)
                try:
                    yield lease
                finally:
                    if not lease.closed:
                        await self.release_script(keys=[name], args=[lease.token])
        finally:
            local, users = self._local[name]
            if users <= 1:
                del self._local[name]
            else:
                self._local[name] = (local, users - 1)

    async def _acquire(self, key: ConversationKey, peek: Sequence[str]) -> Lease:
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.wait_s
        pause = 0.001
        while True:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(lock_key(key), token, nx=True, px=self.lock_ms)
                pipe.get(state_key(key))
                for extra in peek:
                    pipe.get(extra)
                got, raw, *peeked = await pipe.execute()
            if got:
                return Lease(self, key, token, Envelope.loads(raw), tuple(peeked))
            if time.monotonic() > deadline:
                raise LockTimeout(key.channel)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)


def connect(url: str | None, max_connections: int = 64) -> Redis:
    """A real server by URL, or the embedded in-process server when no URL is given.

    The pool blocks when all connections are busy, so a burst of turns waits its turn
    instead of failing with "too many connections".
    """
    if url:
        pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=10)
        client: Redis = Redis(connection_pool=pool)
        return client
    import fakeredis  # the embedded default: same client API, no server to install

    embedded: Redis = fakeredis.FakeAsyncRedis(decode_responses=False)
    return embedded
