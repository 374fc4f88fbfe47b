"""Escalation → case → claim → the bot stays silent and relays → reply → release, over real HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from bot.bootstrap import Bot
from bot.staff.hours import OfficeHours
from bot.staff.transcript import Transcripts
from dialogs.messages import ConversationKey
from tests.staff.support import StaffClient, console_bot, staff_settings, wait_for_case
from tests.support.app import RestClient


@pytest.fixture(params=["embedded", "real"])
def redis_choice(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "embedded" else request.getfixturevalue("redis_url")


async def pushes(session: aiohttp.ClientSession, base: str, sender: str, timeout: float = 10) -> str:
    """What the push queue delivered to a REST resident (waits for the delivery worker)."""
    deadline = asyncio.get_running_loop().time() + timeout
    got: list[str] = []
    while True:
        async with session.get(f"{base}/webhooks/rest/pushes/{sender}") as resp:
            got.extend(m["text"] for m in await resp.json())
        if got or asyncio.get_running_loop().time() > deadline:
            return "\n".join(got)
        await asyncio.sleep(0.05)


async def state_of(bot: Bot, sender: str) -> str:
    return (await bot.pipeline.store.load(ConversationKey("rest", sender))).state.to_dict().__repr__()


async def test_held_conversation_is_relayed_and_resumes_where_it_was(data_dir: Path, redis_choice: str | None) -> None:
    settings = staff_settings(data_dir, redis_choice)
    async with console_bot(settings, ("wang", "静安寺街道")) as (bot, base), \
            aiohttp.ClientSession() as http, StaffClient(base) as wang:
        desk = bot.staff
        assert desk is not None
        resident = RestClient(http, base, "resident-7")
        await resident.say("你好")
        assert "第 1 步" in await resident.press("提建议")
        assert "第 2 步" in await resident.press("环境与绿化")
        queued = await resident.say("人工")
        assert "工作人员" in queued
        (case,) = await wait_for_case(bot)
        assert case.reasons == ("asked",) and case.channel == "rest" and not case.urgent

        assert (await wang.login("wang")).status == 303
        status, location, _ = await wang.post(f"/staff/c/{case.id}/claim")
        assert (status, location) == (303, f"/staff/c/{case.id}")
        assert "静安寺街道的工作人员已接入" in await pushes(http, base, "resident-7")

        before = await state_of(bot, "resident-7")
        assert await resident.say("我家楼下的垃圾桶总是满的") == ""  # the bot stays silent
        assert await resident.say("2") == ""  # a digit is relayed, not taken as a choice
        assert await state_of(bot, "resident-7") == before  # nothing in the dialog state changed
        page = await wang.get(f"/staff/c/{case.id}")
        assert "我家楼下的垃圾桶总是满的" in page and "环境与绿化" in page

        assert (await wang.post(f"/staff/c/{case.id}/reply", text="您好,请问是哪个小区?"))[0] == 204
        assert "【工作人员】您好,请问是哪个小区?" in await pushes(http, base, "resident-7")

        status, location, _ = await wang.post(f"/staff/c/{case.id}/release")
        assert (status, location) == (303, "/staff/")
        handed_back = await pushes(http, base, "resident-7")
        assert "交还给民声助手" in handed_back and "第 2 步" in handed_back  # and asks where they were
        assert "第 3 步" in await resident.say("全区")  # the form goes on from step 2
        assert await desk.cases.queue() == []

        key = ConversationKey("rest", "resident-7")
        lines = [(ln.who, ln.text) for ln in await Transcripts(bot.redis, 3600).read(key)]
        assert ("resident", "我家楼下的垃圾桶总是满的") in lines
        assert ("system", "escalated:asked") in lines

        # Submitted after the escalation: the conversation with staff goes onto the record.
        for text in ("常德路康定路口早上学生很多,没有红绿灯,车开得很快", "建议加装红绿灯和减速带",
                     "跳过", "跳过", "匿名", "同意"):
            await resident.say(text)
        receipt = await resident.say("确认")
        suggestion_id = receipt.split("建议编号 ")[1].split("。")[0]
        assert bot.office is not None and await bot.flush()
        record = (await bot.office.get(suggestion_id))["record"]
        assert {"who": "staff", "text": "您好,请问是哪个小区?"}.items() <= next(
            line for line in record["transcript"] if line["who"] == "staff"
        ).items()
        assert any(line["text"] == "我家楼下的垃圾桶总是满的" for line in record["transcript"])
        assert any(who == "staff" and text == "您好,请问是哪个小区?" for who, text in lines)
        audit = [e["action"] for e in await desk.cases.audit_log()]
        assert {"login", "claim", "reply", "release"} <= set(audit)


async def test_resident_ends_the_human_session_with_a_word(data_dir: Path, redis_url: str) -> None:
    async with console_bot(staff_settings(data_dir, redis_url), ("li", "北站街道")) as (bot, base), \
            aiohttp.ClientSession() as http, StaffClient(base) as li:
        resident = RestClient(http, base, "resident-8")
        await resident.say("你好")
        await resident.press("提建议")
        await resident.say("转人工")
        (case,) = await wait_for_case(bot)
        await li.login("li")
        await li.post(f"/staff/c/{case.id}/claim")
        assert "已结束人工服务" in await resident.say("结束人工")
        assert "第 2 步" in await resident.say("3")  # the bot answers again, at its step
        assert bot.staff is not None
        ended = await bot.staff.cases.get(case.id)
        assert ended is not None and ended.status == "released"
        assert (await li.post(f"/staff/c/{case.id}/reply", text="还在吗"))[0] == 409


async def test_sensitive_words_escalate_and_after_hours_says_when(data_dir: Path, redis_url: str) -> None:
    settings = staff_settings(data_dir, redis_url, staff_sensitive_words="上访, 群体事件",
                              staff_office_hours="mon-fri 09:00-17:00")
    async with console_bot(settings) as (bot, base), aiohttp.ClientSession() as http:
        assert bot.pipeline.staff is not None
        bot.pipeline.staff.now = lambda: datetime(2026, 3, 7, 12, 0, tzinfo=UTC)  # a Saturday
        resident = RestClient(http, base, "resident-9")
        await resident.say("你好")
        answer = await resident.say("我们小区要组织群体事件")
        assert "工作人员" in answer and "周一 09:00" in answer
        (case,) = await wait_for_case(bot)
        assert case.reasons == ("sensitive",)
        again = await resident.say("还是群体事件的事")
        assert "周一 09:00" not in again  # already in the queue: no second escalation
        assert bot.staff is not None and len(await bot.staff.cases.queue()) == 1


def test_office_hours_next_opening() -> None:
    hours = OfficeHours.parse("mon-fri 09:00-17:00; sat 09:00-12:00")
    friday_evening = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
    assert not hours.is_open(friday_evening)
    assert hours.next_open(friday_evening).strftime("%a %H:%M") == "Sat 09:00"
    assert hours.is_open(datetime(2026, 3, 6, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    with pytest.raises(ValueError, match="office hours"):
        OfficeHours.parse("weekdays 9-5")
