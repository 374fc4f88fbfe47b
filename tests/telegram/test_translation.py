"""Pure translation both ways: Update → Inbound, Outbound → pieces, splitting, limits."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiogram.types import Update

from connectors.telegram.inbound import from_message, language_hint
from connectors.telegram.limiter import RateLimiter
from connectors.telegram.outbound import SHORT_PREFIX, Sender, pieces, split_text
from dialogs.messages import AttachmentKind, Choice, EventKind, Hint, Inbound, Outbound
from tests.support.telegram_api import TgUser
from tests.telegram.conftest import Rig


def inbound(update: dict[str, Any], lang: str = "zh") -> Inbound:
    message = Update.model_validate(update).message
    assert message is not None
    result = from_message(message, update["update_id"], lang)
    assert result is not None
    return result


def test_commands_become_events_or_the_engines_words() -> None:
    user = TgUser(1, language_code="zh-hans")
    start = inbound(user.text(1, "/start"))
    assert start.event is not None and start.event.kind == EventKind.FOLLOW and start.message_id == "tg:1"
    scan = inbound(user.text(2, "/start point_zhangyuan"))
    assert scan.event is not None and scan.event.kind == EventKind.SCAN and scan.event.data == {"scene": "zhangyuan"}
    assert inbound(user.text(3, "/help@minsheng_bot")).event.data == {"key": "howto"}  # type: ignore[union-attr]
    assert inbound(user.text(4, "/status")).event.data == {"key": "mine"}  # type: ignore[union-attr]
    assert inbound(user.text(5, "/cancel"), "zh").text == "取消"
    assert inbound(user.text(6, "/cancel"), "en").text == "cancel"
    assert inbound(user.text(7, "/lang"), "zh").text == "English"
    assert inbound(user.text(8, "/lang"), "en").text == "中文"
    assert inbound(user.text(9, "/lang zh"), "zh").text == "中文"
    assert inbound(user.text(10, "/unknown thing")).text == "/unknown thing"
    assert start.language_hint == "zh"
    assert language_hint("en-US") == "en" and language_hint("ru") == "en" and language_hint(None) is None


def test_photo_contact_and_location_become_attachments() -> None:
    user = TgUser(2)
    photo = inbound(user.photo(1, "big", caption="the broken bench"))
    assert photo.text == "the broken bench"
    assert [(a.kind, a.ref) for a in photo.attachments] == [(AttachmentKind.IMAGE, "big")]
    own = inbound(user.contact(2, "8613912345678")).attachments[0]
    assert own.kind == AttachmentKind.CONTACT and own.meta == {"own": True, "phone": "+8613912345678"}
    other = inbound(user.contact(3, "8613912345678", own=False)).attachments[0]
    assert other.meta == {"own": False, "phone": ""}
    place = inbound(user.location(4, 31.22, 121.45)).attachments[0]
    assert place.kind == AttachmentKind.LOCATION and place.meta == {"latitude": 31.22, "longitude": 121.45}
    voice = inbound(user.voice(5, "v1", 100))
    assert voice.text == "" and voice.attachments[0].kind == AttachmentKind.VOICE


def test_long_text_is_split_at_line_boundaries_under_4096() -> None:
    lines = [f"{n:04d} " + "字" * 95 for n in range(120)]  # ~12,000 characters
    chunks = split_text("\n".join(lines))
    assert len(chunks) == 3
    assert all(len(c.encode("utf-16-le")) // 2 <= 4096 for c in chunks)
    assert "\n".join(chunks) == "\n".join(lines)
    one_line = "x" * 9000
    assert [len(c) for c in split_text(one_line)] == [4096, 4096, 808]
    emoji = "😀" * 3000  # two UTF-16 units each
    assert all(len(c.encode("utf-16-le")) // 2 <= 4096 for c in split_text(emoji))


def test_choices_go_on_the_last_piece_and_hints_get_reply_keyboards() -> None:
    long = Outbound("a\n" * 3000, (Choice("Yes", "/yes"),))
    parts = pieces(long, "en")
    assert len(parts) == 2 and not parts[0].choices and parts[1].choices
    phone = pieces(Outbound("Your number?", hint=Hint.CONTACT), "en")
    assert [(p.text, p.reply) for p in phone] == [("Your number?", Hint.CONTACT)]
    both = pieces(Outbound("Where?", (Choice("District-wide", "/d"),), hint=Hint.LOCATION), "en")
    assert both[0].choices and both[1].reply == Hint.LOCATION
    assert both[1].text == "Or tap the button below to send your location."


async def test_callback_data_over_64_bytes_goes_through_a_short_id(rig: Rig) -> None:
    sender: Sender = rig.telegram.sender
    payload = "/street:" + "彭浦新村街道" * 5  # 98 bytes
    data = await sender.callback_data(payload)
    assert data.startswith(SHORT_PREFIX) and len(data.encode()) <= 64
    assert await sender.resolve(data) == payload
    assert await sender.callback_data("/cat:transport") == "/cat:transport"
    # Pressed: the engine receives the long payload.
    await rig.telegram.channel.send("7301", [Outbound("Pick", (Choice("Pengpu", payload),))])
    button = rig.api.sent(7301)[-1].params["reply_markup"]["inline_keyboard"][0][0]
    assert len(button["callback_data"].encode()) <= 64


async def test_rate_limiter_allows_a_burst_then_one_a_second_per_chat() -> None:
    limiter = RateLimiter(per_chat=10.0, chat_burst=2, overall=1000, overall_burst=1000)
    started = time.monotonic()
    for _ in range(4):
        await limiter.wait(1)
    assert time.monotonic() - started >= 0.18  # 2 free, then 2 at 10/s
    other = time.monotonic()
    await asyncio.gather(limiter.wait(2), limiter.wait(3))
    assert time.monotonic() - other < 0.05  # other chats are not held up
