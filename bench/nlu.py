"""NLU figures: training / start-up time, parse latency p50/p99, resident memory.

.venv/bin/python bench/nlu.py [--n 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.nlu import build_builtin
from bot.nlu import training_data as td
from bot.nlu.engine import DEFAULT_NLU_DATA, load_or_train

FILLERS = ["", "那个", "请问", "就是", "嗯", "麻烦", "please ", "哦"]
TAILS = ["", "啊", "吧", "呢", "。", "!", "谢谢", " ok"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def utterances(n: int, seed: int = 0) -> list[str]:
    """Training sentences with fillers and tails, so that most texts are unseen variants."""
    rng = random.Random(seed)
    base = [e.text for e in td.load(DEFAULT_NLU_DATA / "intents").examples]
    base += [e.text for e in td.load(DEFAULT_NLU_DATA / "categories").examples]
    return [rng.choice(FILLERS) + rng.choice(base) + rng.choice(TAILS) for _ in range(n)]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    rss_before = rss_mb()
    started = time.perf_counter()
    model = load_or_train(DEFAULT_NLU_DATA, None)
    print(f"training (no cache, incl. jieba dictionary load): {time.perf_counter() - started:.2f} s")
    print(f"  of which fitting the two classifiers + featurizing: {model.train_seconds:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        build_builtin(Path(tmp))  # writes the cache
        started = time.perf_counter()
        nlu = build_builtin(Path(tmp))
        print(f"start-up from cache: {time.perf_counter() - started:.3f} s")
    texts = utterances(args.n)
    for t in texts[:200]:  # warm-up
        await nlu.parse(t)
    times = []
    for t in texts:
        t0 = time.perf_counter()
        await nlu.parse(t)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p50 = statistics.median(times)
    p99 = times[int(len(times) * 0.99) - 1]
    print(f"parse latency over {len(times)} utterances: p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {times[-1]:.3f} ms")
    print(f"throughput (one core): {len(times) / (sum(times) / 1000):.0f} parses/s")
    print(f"resident memory (max RSS): {rss_mb():.0f} MB (process start: {rss_before:.0f} MB)")


if __name__ == "__main__":
    asyncio.run(main())
