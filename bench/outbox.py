"""Outbox throughput and delivery latency against the reference backend.

Starts a redis-server and the reference backend (`minsheng backend serve`) on loopback,
queues N submitted records in the outbox exactly as the pipeline does, and runs the bot's
outbox worker until the backend has them all. Prints submissions/s, delivery latency p50/p99
(queued → accepted by the backend) and, as a baseline measured the same way in the same run,
the same records POSTed straight to the backend without the outbox.

    .venv/bin/python -m bench.outbox --records 1000            # throughput (a burst)
    .venv/bin/python -m bench.outbox --records 500 --rate 40   # latency at a steady rate
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bot import logs
from bot.delivery.backend_client import HttpBackend
from bot.delivery.outbox import OUTBOX, OutboxHandler, submission
from bot.delivery.streams import Fields, Outcome, StreamWorker
from bot.storage import connect
from dialogs.record import Contact, SuggestionRecord, format_id
from tests.support.process import BotProcess
from tests.support.redis_server import RedisServer

SECRET = "bench-secret"


def record(n: int, year: int) -> SuggestionRecord:
    return SuggestionRecord(
        channel="rest", resident_ref=f"r-bench{n}", language="zh", category="transport",
        category_standard="交通运输", title="路口加装红绿灯", street="江宁路街道", location_detail="常德路康定路口",
        problem="早上学生多,没有红绿灯,车速快", proposal="加装红绿灯和减速带", contact=Contact(),
        privacy_consent=True, submitted_at="2026-05-17T09:00:00+00:00", id=format_id(year, n),
        draft_id=f"d{n}",
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16, help="deliveries in flight per worker")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="records queued per second (0: all at once, for throughput)")
    args = parser.parse_args()
    logs.configure("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = RedisServer(work / "redis").start()
        env = {"MINSHENG_DATA_DIR": str(work / "office"), "BACKEND_SECRET": SECRET, "LOG_LEVEL": "WARNING"}
        backend = BotProcess(env, work, ("backend", "serve")).start()
        redis = connect(server.url)
        client = HttpBackend(backend.base, SECRET)
        try:
            # Baseline: the same submissions straight to the backend, no outbox.
            direct: list[float] = []
            for n in range(1, args.records // 4 + 1):
                started = time.perf_counter()
                reply = await client.submit(replace(record(n, 2025), draft_id=f"b{n}").to_dict())
                assert reply.ok, reply.detail
                direct.append(time.perf_counter() - started)

            queued_at: dict[str, float] = {}
            latencies: list[float] = []
            done = asyncio.Event()
            handler = OutboxHandler(client)

            async def timed(fields: Fields) -> Outcome:
                outcome = await handler(fields)
                if outcome.done:
                    latencies.append(time.perf_counter() - queued_at[fields["id"]])
                    if len(latencies) == args.records:
                        done.set()
                return outcome

            worker = StreamWorker(redis, OUTBOX, timed, "bench", concurrency=args.concurrency, block_ms=50)
            await worker.ensure_group()
            task = asyncio.create_task(worker.run())
            started = time.perf_counter()
            for n in range(1, args.records + 1):
                item = record(n, 2026)
                entry, _owner = submission(item, f"rest:bench{n}")
                queued_at[item.id] = time.perf_counter()
                await redis.xadd(entry.stream, entry.fields)  # type: ignore[arg-type]
                if args.rate:
                    await asyncio.sleep(max(0.0, started + n / args.rate - time.perf_counter()))
            await asyncio.wait_for(done.wait(), 300)
            elapsed = time.perf_counter() - started
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        finally:
            await client.close()
            await redis.aclose()
            backend.stop()
            server.stop()
    print(f"records={args.records} concurrency={args.concurrency} rate={args.rate or 'burst'}")
    print(f"outbox submissions/s   {args.records / elapsed:8.0f}")
    print(f"delivery latency p50   {pct(latencies, 0.5):8.2f} ms   p99 {pct(latencies, 0.99):.2f} ms")
    print(f"baseline direct POST   p50 {pct(direct, 0.5):.2f} ms   p99 {pct(direct, 0.99):.2f} ms "
          f"(~{len(direct) / sum(direct):.0f}/s sequential)")


if __name__ == "__main__":
    asyncio.run(main())
