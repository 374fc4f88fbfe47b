"""The turn pipeline: ordering, isolation, duplicates, submission and escalation effects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from bot.delivery.outbox import OUTBOX, OWNERS
from bot.pipeline import ESCALATION_STREAM, Pipeline, SuggestionIds
from bot.storage import ConversationStore, Lease
from dialogs.messages import ConversationKey, Inbound
from tests.fakes import FakeUnderstander


class WatchedStore(ConversationStore):
    """A real store that records who is inside a turn, to observe ordering and overlap."""

    def __init__(self, redis: Redis, delay: float = 0.0) -> None:
        super().__init__(redis, ttl_s=3600, lock_timeout_s=10, lock_wait_s=10)
        self.delay = delay
        self.active: dict[str, int] = {}
        self.peak_per_key = 0
        self.peak_total = 0

    @asynccontextmanager
    async def turn(self, key: ConversationKey, peek: Sequence[str] = ()) -> AsyncIterator[Lease]:
        name = key.render()
        async with super().turn(key, peek) as lease:
            self.active[name] = self.active.get(name, 0) + 1
            self.peak_per_key = max(self.peak_per_key, self.active[name])
            self.peak_total = max(self.peak_total, sum(self.active.values()))
            await asyncio.sleep(self.delay)
            try:
                yield lease
            finally:
                self.active[name] -= 1


def make(redis: Redis, store: ConversationStore | None = None) -> Pipeline:
    return Pipeline(
        store=store or ConversationStore(redis, ttl_s=3600, lock_timeout_s=10, lock_wait_s=10),
        understander=FakeUnderstander(),
        ids=SuggestionIds(redis),
        secret="test-secret",
    )


def msg(user: str, n: int, text: str) -> Inbound:
    return Inbound(ConversationKey("test", user), f"{user}-{n}", text)


async def test_fifty_messages_of_one_conversation_run_one_at_a_time_in_order(redis: Redis) -> None:
    store = WatchedStore(redis)
    pipeline = make(redis, store)
    texts = [f"第{n}条" for n in range(50)]
    understander = pipeline.understander
    assert isinstance(understander, FakeUnderstander)
    await asyncio.gather(*(pipeline.handle(msg("a", n, t)) for n, t in enumerate(texts)))
    assert store.peak_per_key == 1
    assert understander.calls == texts  # each turn saw the state its predecessor saved
    envelope = await pipeline.snapshot(ConversationKey("test", "a"))
    assert [m for m, _ in envelope.recent] == [f"a-{n}" for n in range(42, 50)]


async def test_different_conversations_run_in_parallel(redis: Redis) -> None:
    store = WatchedStore(redis, delay=0.01)
    pipeline = make(redis, store)
    await asyncio.gather(*(pipeline.handle(msg(f"u{u}", n, "你好")) for u in range(10) for n in range(3)))
    assert store.peak_per_key == 1
    assert store.peak_total > 1


async def test_redelivered_message_gets_the_same_answer_not_a_second_turn(redis: Redis) -> None:
    pipeline = make(redis)
    await pipeline.handle(msg("b", 0, "你好"))
    first, second, third = await asyncio.gather(*(pipeline.handle(msg("b", 1, "1")) for _ in range(3)))
    assert first.messages == second.messages == third.messages
    assert [t.duplicate for t in (first, second, third)] == [False, True, True]
    envelope = await pipeline.snapshot(ConversationKey("test", "b"))
    assert envelope.state.node == "category"
    assert [m for m, _ in envelope.recent] == ["b-0", "b-1"]


async def test_submission_is_durable_before_the_receipt_and_queued_once(redis: Redis) -> None:
    pipeline = make(redis)
    await pipeline.ids.at_least(2026, 41)  # numbers the backend already used are skipped
    answers = ["你好", "1", "3", "全区", "公园厕所太少,老人孩子不方便", "每个公园建一个无障碍厕所", "跳过", "跳过",
               "匿名", "同意"]
    for n, text in enumerate(answers):
        await pipeline.handle(msg("c", n, text))
    turn = await pipeline.handle(msg("c", 99, "确认"))
    receipt = turn.messages[0].text
    suggestion_id = receipt.split("建议编号 ")[1].split("。")[0]
    assert suggestion_id.startswith("JA-") and suggestion_id.endswith("-000042")
    again = await pipeline.handle(msg("c", 99, "确认"))  # the platform re-delivers the confirmation
    assert again.duplicate and again.messages == turn.messages
    (entry,) = await redis.xrange(OUTBOX)  # one outbox entry, written with the state
    record = json.loads(entry[1][b"record"])
    assert record["id"] == suggestion_id and record["resident_ref"].startswith("r-")
    assert record["street"] == "全区" and record["contact"]["anonymous"]
    assert await redis.hget(OWNERS, suggestion_id) == b"test:c"


async def test_escalation_is_queued_with_the_state(redis: Redis) -> None:
    pipeline = make(redis)
    await pipeline.handle(msg("d", 0, "人工"))
    entries = await redis.xrange(ESCALATION_STREAM)
    assert len(entries) == 1
    fields = entries[0][1]
    assert fields[b"reason"] == b"asked" and fields[b"ref"].startswith(b"r-")
