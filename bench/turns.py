"""Turn throughput and latency over the REST channel against a real Redis.

Starts a redis-server and one `minsheng run` worker process on loopback, then drives N
concurrent simulated residents through whole suggestions. Prints turns/s, p50/p99 latency,
Redis bytes per conversation, and the ratio to a baseline (a no-op HTTP request to the same
worker, measured the same way in the same run).

    .venv/bin/python -m bench.turns --residents 50 --conversations 400
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import redis

from tests.support.process import BotProcess
from tests.support.redis_server import RedisServer

SCRIPT = ["你好", "1", "2", "全区", "路口没有红绿灯,上学时间车很多很危险", "建议加装红绿灯和减速带", "跳过",
          "跳过", "匿名", "同意", "确认"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to measure the worker alone."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def resident(session: aiohttp.ClientSession, base: str, name: str, latencies: list[float]) -> None:
    for text in SCRIPT:
        started = time.perf_counter()
        async with session.post(f"{base}/webhooks/rest/webhook", json={"sender": name, "message": text}) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")
        latencies.append(time.perf_counter() - started)


async def baseline(session: aiohttp.ClientSession, base: str, count: int, concurrency: int) -> list[float]:
    latencies: list[float] = []

    async def one(n: int) -> None:
        for _ in range(n):
            started = time.perf_counter()
            async with session.get(f"{base}/webhooks/rest/") as resp:
                await resp.read()
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(one(count // concurrency) for _ in range(concurrency)))
    return latencies


async def drive(base: str, residents: int, conversations: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=residents)
    async with aiohttp.ClientSession(connector=connector) as session:
        await resident(session, base, "warm-up", [])
        queue = list(range(conversations))

        async def worker() -> None:
            while queue:
                n = queue.pop()
                await resident(session, base, f"resident-{n}", latencies)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(residents)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=50, help="concurrent residents")
    parser.add_argument("--conversations", type=int, default=400, help="whole suggestions in total")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = RedisServer(work / "redis", appendonly=True).start()
        env = {"REDIS_URL": server.url, "MINSHENG_DATA_DIR": str(work / "data"), "LOG_LEVEL": "WARNING"}
        bot = BotProcess(env, work).start()
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.residents)) as session:
                base_lat = await baseline(session, bot.base, 4000, args.residents)
            assert bot.process is not None
            cpu_before = cpu_seconds(bot.process.pid)
            latencies, elapsed = await drive(bot.base, args.residents, args.conversations)
            worker_cpu = cpu_seconds(bot.process.pid) - cpu_before
            client = redis.Redis(port=server.port)
            keys = list(client.scan_iter(match="ms:state:*", count=1000))
            state_bytes = [client.memory_usage(k) or 0 for k in keys]
            used = int(client.info("memory")["used_memory"])
        finally:
            bot.stop()
            server.stop()
    turns = len(latencies)
    base_rps = len(base_lat) / max(sum(base_lat), 1e-9) * args.residents
    print(f"residents={args.residents} conversations={args.conversations} turns={turns} elapsed={elapsed:.2f}s")
    print(f"turns/s            {turns / elapsed:8.0f}")
    print(f"worker CPU per turn {worker_cpu / turns * 1000:7.2f} ms  (≈{turns / worker_cpu:.0f} turns/s per core, "
          f"the client and Redis sharing the machine)")
    print(f"turn latency p50   {pct(latencies, 0.50):8.2f} ms   p99 {pct(latencies, 0.99):.2f} ms")
    print(f"baseline (no-op)   p50 {pct(base_lat, 0.50):.2f} ms   p99 {pct(base_lat, 0.99):.2f} ms   "
          f"~{base_rps:.0f} req/s")
    print(f"ratio turn/baseline p50 {pct(latencies, 0.5) / max(pct(base_lat, 0.5), 1e-9):.2f}x")
    print(f"redis bytes/conversation (state key) mean {statistics.mean(state_bytes):.0f}  "
          f"(used_memory {used / max(len(keys), 1):.0f} per conversation, {len(keys)} conversations)")


if __name__ == "__main__":
    asyncio.run(main())
