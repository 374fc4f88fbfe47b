"""A whole suggestion over Telegram, once through the webhook and once by long polling."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dialogs.record import SuggestionRecord
from dialogs.understanding import Understander
from tests.support.telegram_api import LocalBotApi, TgUser
from tests.telegram.conftest import Resident, rig_for


@pytest.mark.parametrize("transport", ["webhook", "polling"])
async def test_whole_suggestion_with_buttons_location_and_shared_contact(
    transport: str, api: LocalBotApi, data_dir: Path, nlu: Understander, redis_url: str
) -> None:
    polling = transport == "polling"
    async with rig_for(api, data_dir, nlu, redis_url, polling=polling) as rig:
        anna = Resident(rig, TgUser(7001, "Anna", "en-GB"))
        assert "welcome" in (await anna.say("/start")).lower()
        assert list(anna.buttons())[:2] == ["Make a suggestion", "My suggestions"]
        assert "Step 1 of 8" in await anna.press("Make a suggestion")
        assert "Step 2 of 8" in await anna.press("Transport")
        # The location question offers a one-tap "send location" reply keyboard.
        ask_location = api.sent(anna.user.id)[-1].params["reply_markup"]
        assert ask_location["keyboard"][0][0]["request_location"] is True
        await anna.send(anna.user.location(rig.next_id(), 31.2336, 121.4466))
        assert "Jiangning Road" in anna.buttons()
        assert "Step 3 of 8" in await anna.press("Jiangning Road")
        await anna.say("No traffic light at the Changde Rd / Kangding Rd crossing; cars speed as pupils cross at 8 am.")
        await anna.say("Please add traffic lights and speed bumps at that crossing.")
        await anna.say("Children can cross safely")
        await anna.say("skip")
        assert "Step 7 of 8" in await anna.say("Anna")
        ask_phone = api.sent(anna.user.id)[-1].params["reply_markup"]
        assert ask_phone["keyboard"][0][0] == {"text": "📱 Share my phone number", "request_contact": True}
        assert ask_phone["keyboard"][1][0]["text"] == "Skip"
        # Telegram gives the resident's own number without "+".
        invite = "\n".join(await anna.send(anna.user.contact(rig.next_id(), "8613912345678")))
        assert "meet our staff" in invite
        # The reply keyboard is removed with the next question, whose buttons come by edit.
        remove = api.sent(anna.user.id)[-1].params["reply_markup"]
        assert remove == {"remove_keyboard": True}
        assert set(anna.buttons()) == {"Yes", "No"}
        await anna.press("Yes")
        summary = await anna.press("I agree")
        assert "139****5678" in summary and "Transport" in summary
        receipt = await anna.press("Confirm and submit")
        suggestion_id = receipt.split("suggestion number is ")[1].split(".")[0]

        assert rig.bot.office is not None  # the embedded reference backend
        assert await rig.bot.flush()
        record = SuggestionRecord.from_dict((await rig.bot.office.get(suggestion_id))["record"])
        assert record.channel == "telegram" and record.language == "en"
        assert record.category == "transport" and record.street == "江宁路街道"
        assert record.proposal == "Please add traffic lights and speed bumps at that crossing."
        assert record.contact.phone == "13912345678" and record.contact.accepts_invitation
        assert record.privacy_consent
        assert record.resident_ref.startswith("r-") and "7001" not in record.resident_ref
        # The office accepts it: the status change is pushed back into the same chat.
        await rig.bot.office.set_status(suggestion_id, "accepted")
        for _ in range(250):
            if any(suggestion_id in t and "accepted" in t for t in api.texts(anna.user.id)[-1:]):
                break
            await asyncio.sleep(0.02)
        assert suggestion_id in api.texts(anna.user.id)[-1] and "accepted" in api.texts(anna.user.id)[-1]
        # Every button press was answered; commands were registered in both languages.
        presses = sum(1 for c in api.calls if c.method == "answerCallbackQuery")
        assert presses == 6
        commands = api.of("setMyCommands")
        assert {c.params.get("language_code") for c in commands} == {None, "zh"}
        if polling:
            assert api.of("deleteWebhook") and api.pending() == []
            assert all(c.params.get("allowed_updates") for c in api.of("getUpdates"))


async def test_chinese_resident_gets_chinese_buttons_and_keyboards(
    api: LocalBotApi, data_dir: Path, nlu: Understander
) -> None:
    async with rig_for(api, data_dir, nlu) as rig:  # the embedded store
        li = Resident(rig, TgUser(7002, "李", "zh-hans"))
        assert "欢迎" in await li.say("/start")
        assert "提建议" in li.buttons()
        await li.press("提建议")
        await li.press("交通出行")
        markup = api.sent(li.user.id)[-1].params["reply_markup"]
        assert markup["keyboard"][0][0]["text"] == "📍 发送我的位置"
