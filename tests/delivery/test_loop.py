"""Closing the loop end to end, over real processes on loopback: redis-server, the reference
backend and the bot. A suggestion arrives once at the backend; status changes, invitations and
follow-up questions made by staff reach the resident, and their answers reach the record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.delivery.loop import Loop, eventually, pushes, submit
from tests.support.app import RestClient


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Loop]:
    world = Loop(tmp_path)
    world.redis.start()
    world.backend.start()
    world.bot.start()
    yield world
    world.stop()


async def test_the_whole_loop(loop: Loop) -> None:
    async with aiohttp.ClientSession() as session:
        resident = RestClient(session, loop.bot.base, "dora")
        suggestion_id = await submit(resident)

        listed = await eventually(lambda: loop.records(session))
        assert [r["id"] for r in listed] == [suggestion_id]
        record = (await loop.record(session, suggestion_id))["record"]
        assert record["street"] == "全区" and record["category"] == "transport"
        assert record["resident_ref"].startswith("r-") and "dora" not in str(record)

        # A status change made with the backend's CLI reaches the resident.
        loop.office("set-status", suggestion_id, "forwarded", "--note", "转静安寺街道办理")
        pushed = await eventually(lambda: pushes(session, loop.bot.base, "dora"))
        assert suggestion_id in pushed[0]["text"] and "已转交办理" in pushed[0]["text"]

        # An invitation is accepted in chat, and the acceptance is on the backend record.
        loop.office("invite", suggestion_id, "--when", "6月3日下午2点", "--where", "静安寺街道社区中心",
                    "--contact", "李老师")
        invitation = await eventually(lambda: pushes(session, loop.bot.base, "dora"))
        assert "6月3日下午2点" in invitation[-1]["text"]
        resident.last = invitation
        await resident.say("1")

        async def accepted() -> list[dict[str, Any]]:
            return [m for m in (await loop.record(session, suggestion_id))["messages"]
                    if m["kind"] == "invitation_reply"]

        (reply,) = await eventually(accepted)
        assert reply["body"]["accepted"] is True

        # A follow-up question is answered in chat, and the answer is on the record.
        loop.office("ask", suggestion_id, "早上大概几点车最多?")
        question = await eventually(lambda: pushes(session, loop.bot.base, "dora"))
        assert "早上大概几点车最多" in question[-1]["text"]
        await resident.say("七点半到八点,学生上学的时候")

        async def answered() -> list[dict[str, Any]]:
            return [m for m in (await loop.record(session, suggestion_id))["messages"] if m["kind"] == "answer"]

        (answer,) = await eventually(answered)
        assert answer["body"]["text"] == "七点半到八点,学生上学的时候"
        assert len(await loop.records(session)) == 1
