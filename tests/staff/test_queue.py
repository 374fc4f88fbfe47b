"""Cases from the escalation stream: idempotent intake, urgent first, notifications to a staff
channel (a recording HTTP server on loopback stands in for Telegram and WeCom)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from redis.asyncio import Redis

from bot.staff.intake import Intake
from bot.staff.notify import Notifier
from bot.staff.queue import Cases
from tests.support.app import serve

STREAM = "ms:escalations"


def entry(conversation: str, reason: str, urgent: bool = False, at: str = "2026-03-02T02:00:00+00:00",
          phone: str = "", street: str = "") -> dict[str, str]:
    return {"ref": f"r-{conversation}", "conversation": conversation, "reason": reason,
            "urgent": "1" if urgent else "0", "street": street, "phone": phone, "at": at}


class Recorder:
    """A loopback HTTP server that records what is posted to it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def app(self) -> web.Application:
        app = web.Application()

        async def record(request: web.Request) -> web.Response:
            self.calls.append((request.path, await request.json()))
            return web.json_response({"ok": True, "errcode": 0})

        app.router.add_post("/{tail:.*}", record)
        return app


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    rec = Recorder()
    async with serve(rec.app()) as base:
        yield rec, base


async def test_intake_is_idempotent_and_orders_urgent_first(redis: Redis) -> None:
    cases = Cases(redis)
    intake = Intake(redis, STREAM, cases, Notifier("http://console"), block_ms=10)
    await intake.ensure_group()
    await redis.xadd(STREAM, entry("rest:a", "asked", at="2026-03-02T01:00:00+00:00"))
    await redis.xadd(STREAM, entry("rest:b", "not_understood", at="2026-03-02T01:30:00+00:00"))
    await redis.xadd(STREAM, entry("rest:c", "emergency", urgent=True, at="2026-03-02T02:00:00+00:00"))
    await redis.xadd(STREAM, entry("rest:a", "callback", phone="13800001111"))  # same resident: same case
    assert await intake.once(10) == 4
    queue = await cases.queue()
    assert [c.conversation.user_id for c in queue] == ["c", "a", "b"]  # urgent, then the longest waiting
    a = queue[1]
    assert a.reasons == ("asked", "callback") and a.phone == "13800001111"
    # the same entry handled twice (a crash before XACK) changes nothing
    first_id = (await redis.xrange(STREAM, count=1))[0][0].decode()
    assert (await cases.open(first_id, entry("rest:a", "asked"))).code == 0
    assert len(await cases.queue()) == 3


async def test_released_case_leaves_the_queue_and_a_new_escalation_opens_another(redis: Redis) -> None:
    cases = Cases(redis)
    opened = await cases.open("1-1", entry("rest:a", "asked"))
    case = await cases.get(opened.case_id)
    assert case is not None
    assert await cases.claim(case, "wang", "静安寺街道") == (True, "wang")
    assert await cases.claim(case, "li", "北站街道") == (False, "wang")
    assert not await cases.end(case, "li", "released")  # only the holder
    assert await cases.end(case, "wang", "released")
    assert await cases.queue() == [] and not await redis.exists(f"ms:staff:hold:{case.conversation.render()}")
    again = await cases.open("1-2", entry("rest:a", "asked"))
    assert again.code == 1 and again.case_id != case.id


async def test_urgent_escalation_notifies_telegram_and_wecom(redis: Redis, recorder: tuple[Recorder, str]) -> None:
    rec, base = recorder
    notifier = Notifier("https://staff.example", f"{base}/tg", "TOKEN", "-1001", f"{base}/wecom?key=k")
    cases = Cases(redis)
    intake = Intake(redis, STREAM, cases, notifier, block_ms=10)
    await intake.ensure_group()
    await redis.xadd(STREAM, entry("wechat:o-secret", "asked", phone="13800001111"))
    await intake.once(10)
    assert rec.calls == []  # not urgent: no notification
    await redis.xadd(STREAM, entry("wechat:o-secret", "emergency", urgent=True, street="彭浦镇"))
    await intake.once(10)
    try:
        paths = sorted(path for path, _ in rec.calls)
        assert paths == ["/tg/botTOKEN/sendMessage", "/wecom"]
        telegram = next(body for path, body in rec.calls if path.startswith("/tg"))
        wecom = next(body for path, body in rec.calls if path == "/wecom")
        assert telegram["chat_id"] == "-1001" and wecom["msgtype"] == "text"
        for text in (telegram["text"], wecom["text"]["content"]):
            assert "E-000001" in text and "https://staff.example/staff/c/E-000001" in text and "彭浦镇" in text
            assert "13800001111" not in text and "o-secret" not in text
    finally:
        await notifier.close()


async def test_a_failing_staff_channel_does_not_stop_the_intake(redis: Redis) -> None:
    notifier = Notifier("http://console", "http://127.0.0.1:9", "T", "1", attempts=1)
    intake = Intake(redis, STREAM, Cases(redis), notifier, block_ms=10)
    await intake.ensure_group()
    await redis.xadd(STREAM, entry("rest:z", "emergency", urgent=True))
    assert await asyncio.wait_for(intake.once(10), 10) == 1
    assert len(await intake.cases.queue()) == 1
    await notifier.close()
