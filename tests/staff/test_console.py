"""The console's protections: sessions, cross-site refusal, one claim wins, personal data only
for the holder (pages and logs)."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import aiohttp
import pytest

from bot import logs
from tests.staff.support import StaffClient, console_bot, staff_settings, wait_for_case
from tests.support.app import RestClient

GETS = ["/staff/", "/staff/events", "/staff/audit", "/staff/c/E-000001", "/staff/c/E-000001/events"]
POSTS = ["/staff/logout", "/staff/c/E-000001/claim", "/staff/c/E-000001/reply", "/staff/c/E-000001/release",
         "/staff/c/E-000001/close"]
PHONE = "13912345678"


async def escalate(http: aiohttp.ClientSession, base: str, sender: str) -> None:
    """A resident who gave a phone number in the form, then asks for a person."""
    resident = RestClient(http, base, sender)
    await resident.say("你好")
    await resident.press("提建议")
    await resident.press("环境与绿化")
    await resident.say("全区")
    await resident.say("公园里的厕所离得太远,老人和小孩上厕所很不方便")
    await resident.say("建议在大的公园里多建几个适老适幼的厕所")
    await resident.say("跳过")
    await resident.say("跳过")
    await resident.say("张阿姨")
    await resident.say(f"我的电话 {PHONE}")
    await resident.say("人工")


async def test_every_staff_route_refuses_unauthenticated_requests(data_dir: Path, redis_url: str) -> None:
    async with console_bot(staff_settings(data_dir, redis_url)) as (bot, base), \
            aiohttp.ClientSession() as http, StaffClient(base) as nobody:
        await escalate(http, base, "anon-test")
        await wait_for_case(bot)
        for path in GETS:
            status, location, body = await nobody.raw("GET", path)
            assert (status, location) == (303, "/staff/login") or status == 401, path
            assert "E-000001" not in body
        for path in POSTS:
            status, _, body = await nobody.raw("POST", path, {"text": "hi"}, {"Origin": base})
            assert status in (401, 403), path
        assert bot.staff is not None and (await bot.staff.cases.queue())[0].status == "waiting"
        status, _, _ = await nobody.raw("GET", "/staff/login")
        assert status == 200  # the login form itself is public


async def test_cross_site_requests_are_refused(data_dir: Path, redis_url: str) -> None:
    async with console_bot(staff_settings(data_dir, redis_url), ("wang", "静安寺街道")) as (bot, base), \
            aiohttp.ClientSession() as http, StaffClient(base) as wang:
        await escalate(http, base, "xsite-test")
        (case,) = await wait_for_case(bot)
        await wang.login("wang")
        claim = f"/staff/c/{case.id}/claim"
        evil = {"Origin": "http://evil.example"}
        assert (await wang.raw("POST", claim, {"csrf": wang.csrf}, evil))[0] == 403
        assert (await wang.raw("POST", claim, {"csrf": wang.csrf}, {}))[0] == 403  # no Origin, no Referer
        assert (await wang.raw("POST", claim, {"csrf": wang.csrf}, {"Referer": "http://evil.example/x"}))[0] == 403
        assert (await wang.raw("POST", claim, {"csrf": "forged"}, {"Origin": base}))[0] == 403
        assert (await wang.raw("POST", claim, {}, {"Origin": base}))[0] == 403
        for path in [*GETS, "/staff/login"]:
            assert (await wang.raw("GET", path, None, {"Sec-Fetch-Site": "cross-site"}))[0] == 403, path
        login = {"csrf": "x", "username": "wang", "password": "whatever"}
        assert (await wang.raw("POST", "/staff/login", login, evil))[0] == 403
        assert bot.staff is not None and (await bot.staff.cases.queue())[0].status == "waiting"
        # the same request from our own origin with the token works
        assert (await wang.post(claim))[0] == 303
        assert (await bot.staff.cases.queue())[0].holder == "wang"


async def test_login_refuses_wrong_passwords_and_logout_ends_the_session(data_dir: Path, redis_url: str) -> None:
    async with console_bot(staff_settings(data_dir, redis_url), ("wang", "静安寺街道")) as (_, base), \
            StaffClient(base) as wang:
        assert (await wang.login("wang", "not the password")).status == 401
        assert (await wang.login("nobody")).status == 401
        assert (await wang.login("wang")).status == 303
        assert "待办" in await wang.get("/staff/")
        assert (await wang.post("/staff/logout"))[:2] == (303, "/staff/login")
        assert (await wang.raw("GET", "/staff/"))[:2] == (303, "/staff/login")


async def test_two_staff_claiming_at_once_one_wins(data_dir: Path, redis_url: str) -> None:
    staff = (("wang", "静安寺街道"), ("li", "北站街道"))
    async with console_bot(staff_settings(data_dir, redis_url), *staff) as (bot, base), \
            aiohttp.ClientSession() as http, StaffClient(base) as wang, StaffClient(base) as li:
        await escalate(http, base, "claim-race")
        (case,) = await wait_for_case(bot)
        await wang.login("wang")
        await li.login("li")
        results = await asyncio.gather(wang.post(f"/staff/c/{case.id}/claim"), li.post(f"/staff/c/{case.id}/claim"))
        locations = sorted(loc for _, loc, _ in results)
        assert locations == [f"/staff/c/{case.id}", f"/staff/c/{case.id}?error=taken"]
        assert bot.staff is not None
        holder = (await bot.staff.cases.get(case.id)).holder  # type: ignore[union-attr]
        loser = li if holder == "wang" else wang
        assert "处理中" in await loser.get(f"/staff/c/{case.id}")  # others see who holds it
        assert [e["action"] for e in await bot.staff.cases.audit_log()].count("claim") == 1


@pytest.mark.parametrize("race", range(3))
async def test_simultaneous_claims_in_redis_have_one_winner(data_dir: Path, redis_url: str, race: int) -> None:
    async with console_bot(staff_settings(data_dir, redis_url)) as (bot, base), aiohttp.ClientSession() as http:
        await RestClient(http, base, f"race-{race}").say("人工")
        (case,) = await wait_for_case(bot)
        assert bot.staff is not None
        wins = await asyncio.gather(*(bot.staff.cases.claim(case, f"s{n}", "u") for n in range(10)))
        assert sum(won for won, _ in wins) == 1
        assert len({holder for _, holder in wins}) == 1


async def test_personal_data_only_for_the_holder_and_never_in_logs(
    data_dir: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)
    logs.configure("DEBUG")  # everything the bot logs goes to `captured`
    staff = (("wang", "静安寺街道"), ("li", "北站街道"))
    try:
        async with console_bot(staff_settings(data_dir, redis_url), *staff) as (bot, base), \
                aiohttp.ClientSession() as http, StaffClient(base) as wang, StaffClient(base) as li:
            await escalate(http, base, "resident-secret-id")
            (case,) = await wait_for_case(bot)
            await wang.login("wang")
            await li.login("li")
            before_claim = await li.get(f"/staff/c/{case.id}") + await li.get("/staff/")
            await wang.post(f"/staff/c/{case.id}/claim")
            holder_page = await wang.get(f"/staff/c/{case.id}")
            assert PHONE in holder_page and "张阿姨" in holder_page  # the holder sees the draft
            await RestClient(http, base, "resident-secret-id").say(f"再说一遍我的电话 {PHONE}")
            await wang.post(f"/staff/c/{case.id}/reply", text="好的,稍后打给您")
            pages = [before_claim, await li.get(f"/staff/c/{case.id}"), await li.get("/staff/"),
                     await li.get("/staff/audit"), await wang.get("/staff/"), await wang.get("/staff/audit")]
            for page in pages:
                assert PHONE not in page and "张阿姨" not in page
                assert "resident-secret-id" not in page and "rest:" not in page
            assert "resident-secret-id" not in holder_page  # not even the holder sees the platform id
    finally:
        logs.configure("INFO")
    out = captured.getvalue()
    assert "case claimed" in out and "relayed to staff" in out  # the logs were captured
    assert PHONE not in out and "resident-secret-id" not in out


async def test_callback_phone_only_for_the_holder(data_dir: Path, redis_url: str) -> None:
    async with console_bot(staff_settings(data_dir, redis_url), ("wang", "区人民建议征集办"), ("li", "北站街道")) as (
        bot, base), StaffClient(base) as wang, StaffClient(base) as li:
        await bot.redis.xadd("ms:escalations", {
            "ref": "r-x", "conversation": "rest:elder-1", "reason": "callback", "urgent": "0", "street": "北站街道",
            "phone": "13800001111", "at": "2026-03-02T02:00:00+00:00"})
        (case,) = await wait_for_case(bot)
        await wang.login("wang")
        await li.login("li")
        assert "回电" in await li.get("/staff/")
        await wang.post(f"/staff/c/{case.id}/claim")
        assert "13800001111" in await wang.get(f"/staff/c/{case.id}")
        assert "13800001111" not in await li.get(f"/staff/c/{case.id}")
