"""The durable stream worker: retries, dead letters, and taking over a dead worker's entries."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from bot.delivery.streams import Fields, Outcome, StreamWorker, dead_letters, requeue

STREAM = "ms:test-queue"


class Recorder:
    """A handler that fails as told, recording what it saw."""

    def __init__(self, plan: list[Outcome] | None = None) -> None:
        self.plan = plan or []
        self.seen: list[str] = []
        self.done = asyncio.Event()

    async def __call__(self, fields: Fields) -> Outcome:
        self.seen.append(fields["n"])
        outcome = self.plan.pop(0) if self.plan else Outcome()
        if outcome.done:
            self.done.set()
        return outcome


def worker(redis: Redis, handler: Recorder, consumer: str = "w1", lease_s: float = 5.0) -> StreamWorker:
    return StreamWorker(redis, STREAM, handler, consumer, lease_s=lease_s, backoff_base_s=0.01,
                        backoff_cap_s=0.05, block_ms=20)


async def run_until(task_worker: StreamWorker, event: asyncio.Event, timeout: float = 10) -> None:
    task = asyncio.create_task(task_worker.run())
    try:
        await asyncio.wait_for(event.wait(), timeout)
        await task_worker.drain()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_transient_failures_are_retried_until_done(redis: Redis) -> None:
    handler = Recorder([Outcome.retry(), Outcome.retry(), Outcome.retry(after=0.01), Outcome()])
    await redis.xadd(STREAM, {"n": "1"})
    await run_until(worker(redis, handler), handler.done)
    assert handler.seen == ["1", "1", "1", "1"]
    assert await redis.xlen(STREAM) == 0  # acknowledged and removed
    assert await redis.hlen(f"{STREAM}:attempts") == 0


async def test_permanent_failure_is_dead_lettered_and_can_be_requeued(redis: Redis) -> None:
    handler = Recorder([Outcome.dead_letter("HTTP 422")])
    await redis.xadd(STREAM, {"n": "7"})
    w = worker(redis, handler)
    task = asyncio.create_task(w.run())
    for _ in range(200):
        if await redis.xlen(f"{STREAM}:dead"):
            break
        await asyncio.sleep(0.01)
    ((dead_id, fields),) = await dead_letters(redis, STREAM)
    assert fields["n"] == "7" and fields["dead_reason"] == "HTTP 422"
    assert await requeue(redis, STREAM, dead_id)
    await asyncio.wait_for(handler.done.wait(), 10)
    await w.drain()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert handler.seen == ["7", "7"]
    assert await dead_letters(redis, STREAM) == []


async def test_entries_of_a_dead_worker_are_claimed_by_another(redis: Redis) -> None:
    first = worker(redis, Recorder(), consumer="dies", lease_s=0.3)
    await first.ensure_group()
    await redis.xadd(STREAM, {"n": "9"})
    # The first worker reads the entry and dies before acknowledging it.
    await redis.xreadgroup(first.group, "dies", {STREAM: ">"}, count=10)
    survivor_handler = Recorder()
    await run_until(worker(redis, survivor_handler, consumer="survivor", lease_s=0.3), survivor_handler.done)
    assert survivor_handler.seen == ["9"]
    pending = await redis.xpending(STREAM, first.group)
    assert pending["pending"] == 0


async def test_many_entries_are_each_handled_once(redis: Redis) -> None:
    handler = Recorder()
    for n in range(100):
        await redis.xadd(STREAM, {"n": str(n)})
    w = worker(redis, handler)
    task = asyncio.create_task(w.run())
    for _ in range(500):
        if len(handler.seen) >= 100:
            break
        await asyncio.sleep(0.01)
    await w.drain()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert sorted(handler.seen, key=int) == [str(n) for n in range(100)]
