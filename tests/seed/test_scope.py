"""Three-level routing and who sees what: a street's staff asking for another street's record or
conversation, by URL or by API, gets 403; the district office sees everything."""

from __future__ import annotations

from pathlib import Path

from backend.routing import default_routing
from tests.seed.support import seed
from tests.staff.support import StaffClient, console_bot, staff_settings, wait_for_case


def test_routing_rules_from_the_data_file() -> None:
    routing = default_routing()
    assert routing.route({"category": "urban", "street": "静安寺街道"}) == "静安寺街道"
    assert routing.route({"category": "urban", "street": "静安寺街道", "location_detail": "华山居委旁边"}) == \
        "静安寺街道/华山居民区"
    assert routing.route({"category": "elderly", "street": "全区"}) == "区人民建议征集办"
    assert routing.route({"category": "business", "street": "北站街道"}) == "区人民建议征集办"
    assert routing.route({"category": "transport", "street": "北站街道", "location_detail": "北站到大宁的公交"}) == \
        "区人民建议征集办"  # cross-street
    assert routing.route({"category": "transport", "street": "北站街道", "location_detail": "天目中路口"}) == "北站街道"
    assert routing.can_see("静安寺街道", "静安寺街道/华山居民区")
    assert not routing.can_see("静安寺街道/华山居民区", "静安寺街道")
    assert not routing.can_see("北站街道", "静安寺街道")
    assert routing.can_see("区人民建议征集办", "北站街道")


async def test_a_street_sees_only_its_own_records_and_conversations(data_dir: Path, redis_url: str) -> None:
    staff = (("wang", "静安寺街道"), ("li", "北站街道"), ("zhao", "区人民建议征集办"))
    async with console_bot(staff_settings(data_dir, redis_url), *staff) as (bot, base), \
            StaffClient(base) as wang, StaffClient(base) as li, StaffClient(base) as zhao:
        await seed(bot)
        for client, name in ((wang, "wang"), (li, "li"), (zhao, "zhao")):
            assert (await client.login(name)).status == 303
        ours, theirs = "JA-2026-000002", "JA-2026-000003"  # 静安寺街道/华山居民区, 北站街道

        # By URL and by API: their own (a neighbourhood committee under them) yes, another street's 403.
        assert "华山居民区" in await wang.get(f"/staff/records/{ours}")
        assert (await wang.raw("GET", f"/staff/records/{theirs}"))[0] == 403
        assert (await wang.raw("GET", f"/staff/api/records/{theirs}"))[0] == 403
        assert (await li.raw("GET", f"/staff/api/records/{ours}"))[0] == 403
        assert (await li.raw("GET", f"/staff/api/records/{theirs}"))[0] == 200
        assert (await zhao.raw("GET", f"/staff/api/records/{theirs}"))[0] == 200
        assert (await wang.raw("GET", "/staff/api/records/JA-2026-999999"))[0] == 404

        # Lists, analytics and CSV hold only the unit's records.
        status, _, body = await wang.raw("GET", "/staff/api/records")
        assert status == 200 and theirs not in body and ours in body and "JA-2026-000001" in body
        listing = await wang.get("/staff/records")
        assert theirs not in listing and ours in listing
        status, _, body = await li.raw("GET", "/staff/analytics.csv")
        assert status == 200 and theirs in body and ours not in body
        assert "JA-2026-000004" not in body  # cross-street transport went to the district office
        status, _, body = await zhao.raw("GET", "/staff/analytics.csv")
        assert all(f"JA-2026-00000{n}" in body for n in range(1, 8))
        assert "13800001234" not in await zhao.get("/staff/api/records/JA-2026-000001")  # phone masked

        # Escalated conversations: another street's case is 403 on its page, events and actions.
        await bot.redis.xadd("ms:escalations", {
            "ref": "r-x", "conversation": "rest:north-1", "reason": "asked", "urgent": "0", "street": "北站街道",
            "phone": "", "at": "2026-03-02T02:00:00+00:00"})
        (case,) = await wait_for_case(bot)
        assert case.id not in await wang.get("/staff/")
        assert case.id in await li.get("/staff/")
        assert (await wang.raw("GET", f"/staff/c/{case.id}"))[0] == 403
        assert (await wang.raw("GET", f"/staff/c/{case.id}/events"))[0] == 403
        assert (await wang.post(f"/staff/c/{case.id}/claim"))[0] == 403
        assert (await wang.post(f"/staff/c/{case.id}/reply", text="hi"))[0] == 403
        assert (await li.post(f"/staff/c/{case.id}/claim"))[0] == 303
        assert (await zhao.raw("GET", f"/staff/c/{case.id}"))[0] == 200
