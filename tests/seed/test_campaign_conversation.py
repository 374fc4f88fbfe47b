"""A resident joins a themed campaign from a Telegram deep link naming a collection point and the
campaign, answers its guiding questions, and the backend's record carries the campaign, the point
and the routed unit; the campaign's counts reach residents; a closed campaign answers politely."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.bootstrap import Bot
from connectors.telegram.inbound import from_command
from dialogs.messages import ConversationKey, Inbound
from tests.seed.support import TOILET_QUESTIONS, Resident, toilets
from tests.staff.support import console_bot, staff_settings


async def record_of(bot: Bot, suggestion_id: str) -> dict[str, Any]:
    assert bot.office is not None
    for _ in range(200):
        if await bot.office.count():
            listed = [s for s in await bot.office.list() if s["id"] == suggestion_id]
            if listed:
                return await bot.office.get(suggestion_id)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{suggestion_id} never reached the backend")


async def write_campaign_suggestion(resident: Resident) -> str:
    text = await resident.send("我家附近张园旁边的公厕没有扶手,老人起身很困难")
    assert "主题问题 2/2" in text and TOILET_QUESTIONS[1] in text
    text = await resident.send("希望加装扶手和儿童安全座椅,再设一个第三卫生间")
    assert "具体建议" in text or "建议怎么做" in text, text
    await resident.send("在公厕入口和隔间里加装扶手,增设儿童座椅和第三卫生间")
    text = await resident.send("跳过")  # expected effect
    text = await resident.send("跳过")  # photos
    text = await resident.send("匿名")
    assert "同意" in text
    text = await resident.press("同意")
    assert "确认" in text or "提交" in text, text
    text = await resident.send("/confirm", payload="/confirm")
    suggestion_id = next(w for w in text.replace(",", " ").replace("。", " ").split() if w.startswith("JA-"))
    return suggestion_id.strip("「」:,")


async def test_joining_a_campaign_from_a_deep_link(data_dir: Path, redis_url: str) -> None:
    settings = staff_settings(data_dir, redis_url)
    async with console_bot(settings) as (bot, _):
        assert bot.outreach is not None
        await bot.outreach.campaigns.add(toilets())
        resident = Resident(bot, "telegram", "tg-7001")
        # https://t.me/<bot>?start=point_zhangyuan__toilets: the point 张园's QR code for the campaign.
        deep_link = from_command(Inbound(resident.key, "tg-start"), "start", "point_zhangyuan__toilets", "zh")
        text = await resident.send(inbound=deep_link)
        assert "张园" in text and "公厕适老适幼化改造" in text
        assert "主题问题 1/2" in text and TOILET_QUESTIONS[0] in text
        state = (await bot.pipeline.snapshot(resident.key)).state
        assert state.source == "zhangyuan" and state.draft is not None
        assert state.draft.category == "urban" and state.draft.street == "南京西路街道"  # preset by the campaign

        suggestion_id = await write_campaign_suggestion(resident)
        stored = await record_of(bot, suggestion_id)
        record = stored["record"]
        assert record["campaign"] == "toilets"
        assert record["source"] == "zhangyuan" and record["source_name"] == "张园"
        assert TOILET_QUESTIONS[0] in record["problem"] and "扶手" in record["problem"]
        assert stored["unit"] == "南京西路街道"  # routed: urban × 南京西路街道 → the street office

        # The campaign's counts, on request ("正在征集" in the menu).
        bot.outreach.refresh()
        other = Resident(bot, "rest", "web-1")
        text = await other.send("/menu:campaigns", payload="/menu:campaigns")
        assert "公厕适老适幼化改造" in text and "已收到 1 条建议" in text and "已采纳 0 条" in text
        assert "提普通建议" in other.choices()
        text = await other.press("公厕适老适幼化改造")
        assert "主题问题 1/2" in text


async def test_a_closed_campaign_answers_politely_and_offers_a_normal_suggestion(
        data_dir: Path, redis_url: str) -> None:
    settings = staff_settings(data_dir, redis_url)
    async with console_bot(settings) as (bot, _):
        assert bot.outreach is not None
        await bot.outreach.campaigns.add(toilets())
        await bot.outreach.campaigns.close("toilets")
        resident = Resident(bot, "wechat", "o-wx-1")
        wechat_menu = Inbound(ConversationKey("wechat", "o-wx-1"), "m1")
        text = await resident.send(inbound=from_command(wechat_menu, "start", "point_campaign_toilets", "zh"))
        assert "已经结束" in text and "公厕适老适幼化改造" in text
        assert "提建议" in resident.choices()
        text = await resident.send("/menu:campaigns", payload="/menu:campaigns")
        assert "目前没有正在进行的主题征集" in text
        text = await resident.press("提建议")
        assert "哪方面" in text
