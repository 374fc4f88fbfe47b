"""Whole conversations through the REST channel over real HTTP, ending in stored records."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
import redis

from bot.settings import load_settings
from dialogs.record import SuggestionRecord
from tests.support.app import RestClient, running_bot


@pytest.fixture(params=["embedded", "real"])
def settings_for(request: pytest.FixtureRequest, data_dir: Path) -> dict[str, object]:
    overrides: dict[str, object] = {"data_dir": data_dir, "secret": "s"}
    if request.param == "real":
        url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(url).flushdb()  # before the bot starts its queues
        overrides["redis_url"] = url
    return overrides


async def test_whole_suggestion_over_rest_is_stored_with_every_field(settings_for: dict[str, object]) -> None:
    settings = load_settings(**settings_for)
    async with running_bot(settings) as (bot, base), aiohttp.ClientSession() as session:
        alice = RestClient(session, base, "alice-rest")
        assert "欢迎" in await alice.say("你好")
        assert [b["title"] for b in alice.buttons()][:2] == ["提建议", "我的建议"]
        assert "第 1 步" in await alice.press("提建议")
        assert "第 2 步" in await alice.press("环境与绿化")
        assert "第 3 步" in await alice.say("全区")
        await alice.say("公园里的厕所离得太远,老人和小孩上厕所很不方便")
        await alice.say("建议在大的公园里多建几个适老适幼的厕所")
        await alice.say("老人孩子出门更放心")
        await alice.say("跳过")
        await alice.say("张阿姨")
        await alice.say("13912345678")
        await alice.press("是")
        summary = await alice.press("同意")
        assert "1 类别:环境与绿化" in summary and "139****5678" in summary
        receipt = await alice.press("确认提交")
        suggestion_id = receipt.split("建议编号 ")[1].split("。")[0]
        assert bot.office is not None  # the embedded reference backend
        await bot.flush()
        record = SuggestionRecord.from_dict((await bot.office.get(suggestion_id))["record"])
        assert record.channel == "rest" and record.language == "zh"
        assert record.category == "environment" and record.category_standard == "环境保护"
        assert record.street == "全区"
        assert record.problem == "公园里的厕所离得太远,老人和小孩上厕所很不方便"
        assert record.proposal == "建议在大的公园里多建几个适老适幼的厕所"
        assert record.expected_effect == "老人孩子出门更放心"
        assert record.contact.name == "张阿姨" and record.contact.phone == "13912345678"
        assert record.contact.accepts_invitation and record.privacy_consent
        assert record.resident_ref.startswith("r-") and "alice" not in record.resident_ref
        assert record.title and record.submitted_at and record.draft_id


async def test_rest_refuses_bad_input_with_400(settings_for: dict[str, object]) -> None:
    settings = load_settings(**settings_for)
    async with running_bot(settings) as (_, base), aiohttp.ClientSession() as session:
        url = f"{base}/webhooks/rest/webhook"
        for body in (b"not json", b"[]", b'{"message": "hi"}', b'{"sender": "", "message": "hi"}',
                     b'{"sender": "x", "message": 5}', ('{"sender": "x", "message": "' + "长" * 5000 + '"}').encode()):
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
                assert resp.status == 400, body[:40]
        async with session.get(f"{base}/healthz") as resp:
            assert resp.status == 200
        async with session.get(f"{base}/metrics") as resp:
            assert "minsheng_turns_total" in await resp.text()


async def test_same_message_id_twice_is_one_turn(settings_for: dict[str, object]) -> None:
    settings = load_settings(**settings_for)
    async with running_bot(settings) as (_, base), aiohttp.ClientSession() as session:
        bob = RestClient(session, base, "bob-rest")
        await bob.say("你好", message_id="m1")
        first = await bob.say("1", message_id="m2")
        second = await bob.say("1", message_id="m2")
        assert first == second and "第 1 步" in first
        third = await bob.say("2", message_id="m3")
        assert "第 2 步" in third  # the repeat did not advance the form a second time
