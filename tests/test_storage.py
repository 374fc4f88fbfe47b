"""The conversation store contract, on the embedded store and on a real redis-server."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from bot.storage import ConversationStore, Envelope, LockLost, LockTimeout, Queued, lock_key, state_key
from dialogs.messages import Choice, ConversationKey, Outbound
from dialogs.state import ConversationState, Draft

KEY = ConversationKey("test", "u1")


def store(redis: Redis, timeout_s: float = 5, wait_s: float = 5) -> ConversationStore:
    return ConversationStore(redis, ttl_s=60, lock_timeout_s=timeout_s, lock_wait_s=wait_s)


async def test_unknown_conversation_is_fresh_and_an_unsaved_turn_frees_the_lock(redis: Redis) -> None:
    async with store(redis).turn(KEY) as lease:
        assert lease.envelope.state == ConversationState() and lease.envelope.recent == []
        assert await redis.exists(lock_key(KEY)) == 1
    assert await redis.exists(lock_key(KEY)) == 0
    assert await redis.exists(state_key(KEY)) == 0


async def test_save_round_trip_with_ttl_and_queue_frees_the_lock(redis: Redis) -> None:
    s = store(redis)
    state = ConversationState(node="problem", draft=Draft("d1", "2026-01-01T00:00:00+00:00", street="彭浦镇"))
    async with s.turn(KEY) as lease:
        lease.envelope.state = state
        lease.envelope.remember("m1", [Outbound("你好", (Choice("是", "/yes"),))], keep=2)
        await lease.save([Queued("ms:test-stream", {"a": "1", "b": "二"}), Queued("ms:test-stream", {"a": "2"})])
    assert await redis.exists(lock_key(KEY)) == 0
    loaded = await s.load(KEY)
    assert loaded.state == state
    assert loaded.answer_to("m1") == [Outbound("你好", (Choice("是", "/yes"),))]
    assert loaded.answer_to("m2") is None
    assert 0 < await redis.ttl(state_key(KEY)) <= 60
    entries = await redis.xrange("ms:test-stream")
    assert [e[1] for e in entries] == [{b"a": b"1", b"b": "二".encode()}, {b"a": b"2"}]


async def test_recent_answers_are_bounded() -> None:
    envelope = Envelope()
    for n in range(5):
        envelope.remember(f"m{n}", [Outbound(str(n))], keep=3)
    assert [m for m, _ in envelope.recent] == ["m2", "m3", "m4"]


async def test_turns_are_exclusive_within_and_across_workers(redis: Redis) -> None:
    workers = [store(redis), store(redis)]  # two processes' stores on one Redis
    active = 0
    peak = 0

    async def turn(s: ConversationStore) -> None:
        nonlocal active, peak
        async with s.turn(KEY) as lease:
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.002)
            active -= 1
            lease.envelope.state.failures += 1
            await lease.save()

    await asyncio.gather(*(turn(workers[n % 2]) for n in range(30)))
    assert peak == 1
    assert (await workers[0].load(KEY)).state.failures == 30  # no lost update


async def test_lock_of_a_dead_worker_expires(redis: Redis) -> None:
    await redis.set(lock_key(KEY), "dead-worker-token", px=300)  # its owner died holding it
    async with store(redis, wait_s=3).turn(KEY) as lease:
        assert await redis.get(lock_key(KEY)) == lease.token.encode()


async def test_lock_wait_is_bounded(redis: Redis) -> None:
    await redis.set(lock_key(KEY), "busy", px=10_000)
    with pytest.raises(LockTimeout):
        async with store(redis, wait_s=0.2).turn(KEY):
            pass
    assert await redis.get(lock_key(KEY)) == b"busy"  # never freed someone else's lock


async def test_a_turn_that_outlived_its_lock_saves_nothing_and_frees_nothing(redis: Redis) -> None:
    slow = store(redis, timeout_s=0.2)
    with pytest.raises(LockLost):
        async with slow.turn(KEY) as lease:
            await asyncio.sleep(0.3)  # the lock expired...
            await redis.set(lock_key(KEY), "next-owner", px=10_000)  # ...and another worker took it
            lease.envelope.state.node = "stale"
            await lease.save()
    assert await redis.get(lock_key(KEY)) == b"next-owner"
    assert (await slow.load(KEY)).state.node == "start"


async def test_peeked_keys_come_with_the_lock_and_capped_writes_keep_a_ttl(redis: Redis) -> None:
    s = store(redis)
    await redis.set("ms:test-flag", b"on")
    async with s.turn(KEY, peek=("ms:test-flag", "ms:test-absent")) as lease:
        assert lease.peeked == (b"on", None)
        await lease.save([Queued("ms:test-capped", {"n": str(n)}, maxlen=5, ttl_s=30) for n in range(50)])
    assert await redis.xlen("ms:test-capped") <= 50  # "~" trims whole nodes, never below 5
    assert 0 < await redis.ttl("ms:test-capped") <= 30
