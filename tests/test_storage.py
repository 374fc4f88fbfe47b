"""The store and lock contract, on the embedded store and on a real redis-server."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from bot.storage import Envelope, LockTimeout, Queued, RedisLocks, RedisStateStore, lock_key
from dialogs.messages import Choice, ConversationKey, Outbound
from dialogs.state import ConversationState, Draft

KEY = ConversationKey("test", "u1")


async def test_load_of_unknown_conversation_is_fresh(redis: Redis) -> None:
    envelope = await RedisStateStore(redis, ttl_s=60).load(KEY)
    assert envelope.state == ConversationState() and envelope.recent == []


async def test_save_and_load_round_trip_with_ttl_and_queue(redis: Redis) -> None:
    store = RedisStateStore(redis, ttl_s=60)
    state = ConversationState(node="problem", draft=Draft("d1", "2026-01-01T00:00:00+00:00", street="彭浦镇"))
    envelope = Envelope(state)
    envelope.remember("m1", [Outbound("你好", (Choice("是", "/yes"),))], keep=2)
    await store.save(KEY, envelope, [Queued("ms:test-stream", {"a": "1"})])
    loaded = await store.load(KEY)
    assert loaded.state == state
    assert loaded.answer_to("m1") == [Outbound("你好", (Choice("是", "/yes"),))]
    assert loaded.answer_to("m2") is None
    assert 0 < await redis.ttl("ms:state:test:u1") <= 60
    assert await redis.xlen("ms:test-stream") == 1


async def test_recent_answers_are_bounded(redis: Redis) -> None:
    envelope = Envelope()
    for n in range(5):
        envelope.remember(f"m{n}", [Outbound(str(n))], keep=3)
    assert [m for m, _ in envelope.recent] == ["m2", "m3", "m4"]


async def test_lock_is_exclusive(redis: Redis) -> None:
    locks = RedisLocks(redis, timeout_s=5, wait_s=5)
    active = 0
    peak = 0

    async def worker() -> None:
        nonlocal active, peak
        async with locks.lock(KEY):
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.005)
            active -= 1

    await asyncio.gather(*(worker() for _ in range(20)))
    assert peak == 1
    assert await redis.exists(lock_key(KEY)) == 0


async def test_lock_is_exclusive_across_workers(redis: Redis) -> None:
    """Two lock managers (two workers) on the same Redis never hold one key at once."""
    a, b = RedisLocks(redis, 5, 5), RedisLocks(redis, 5, 5)
    active = 0
    peak = 0

    async def worker(locks: RedisLocks) -> None:
        nonlocal active, peak
        async with locks.lock(KEY):
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.002)
            active -= 1

    await asyncio.gather(*(worker(a if n % 2 else b) for n in range(20)))
    assert peak == 1


async def test_lock_of_a_dead_worker_expires(redis: Redis) -> None:
    dead = redis.lock(lock_key(KEY), timeout=0.3)
    assert await dead.acquire(blocking=False)  # its owner "dies" without releasing
    locks = RedisLocks(redis, timeout_s=5, wait_s=3)
    async with locks.lock(KEY):
        assert await redis.exists(lock_key(KEY)) == 1


async def test_lock_wait_is_bounded(redis: Redis) -> None:
    held = redis.lock(lock_key(KEY), timeout=10)
    assert await held.acquire(blocking=False)
    with pytest.raises(LockTimeout):
        async with RedisLocks(redis, timeout_s=5, wait_s=0.2).lock(KEY):
            pass
    await held.release()


async def test_lock_is_released_only_by_its_owner(redis: Redis) -> None:
    """A holder whose lock expired must not free the lock a second owner now holds."""
    first = RedisLocks(redis, timeout_s=0.2, wait_s=2)
    second_holds = asyncio.Event()
    finish = asyncio.Event()

    async def slow_first() -> None:
        async with first.lock(KEY):
            await asyncio.sleep(0.4)  # outlives its lock
            await second_holds.wait()

    async def second() -> None:
        await asyncio.sleep(0.25)
        async with RedisLocks(redis, timeout_s=5, wait_s=2).lock(KEY):
            second_holds.set()
            await finish.wait()

    task_first = asyncio.create_task(slow_first())
    task_second = asyncio.create_task(second())
    await task_first  # released its (expired) lock while the second holds one
    assert await redis.exists(lock_key(KEY)) == 1
    finish.set()
    await task_second
    assert await redis.exists(lock_key(KEY)) == 0
