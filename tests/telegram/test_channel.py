"""Pushes through TelegramChannel (connectors.base.OutputChannel) against the local Bot API."""

from __future__ import annotations

import time

from connectors.base import Delivery
from connectors.telegram.channel import UNREACHABLE_KEY
from connectors.telegram.limiter import RateLimiter
from dialogs.messages import Choice, Outbound
from tests.support.telegram_api import TgUser
from tests.telegram.conftest import Rig

STATUS = Outbound("News on your suggestion JA-2026-000001 \"Bike lanes\": accepted.")


async def test_push_is_sent_with_its_buttons(rig: Rig) -> None:
    result = await rig.telegram.channel.send("7201", [STATUS, Outbound("More?", (Choice("Yes", "/yes"),))])
    assert result.outcome == Delivery.SENT
    sent = rig.api.sent(7201)
    assert [c.params["text"] for c in sent] == [STATUS.text, "More?"]
    assert sent[1].params["reply_markup"] == {"inline_keyboard": [[{"text": "Yes", "callback_data": "/yes"}]]}


async def test_a_429_during_a_push_is_retried_after_retry_after(rig: Rig) -> None:
    rig.api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    started = time.monotonic()
    result = await rig.telegram.channel.send("7202", [STATUS])
    assert result.outcome == Delivery.SENT
    attempts = [c for c in rig.api.calls if c.method == "sendMessage"]
    assert [c.ok for c in attempts] == [False, True]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert time.monotonic() - started >= 1.0


async def test_a_long_429_is_handed_back_as_retry_with_retry_after(rig: Rig) -> None:
    rig.api.fail("sendMessage", 429, "Too Many Requests: retry after 60", retry_after=60, after=1)
    result = await rig.telegram.channel.send("7203", [STATUS, Outbound("second")])
    assert result.outcome == Delivery.RETRY and result.retry_after == 60
    assert result.detail == "429; sent 1 of 2"
    assert len(rig.api.sent(7203)) == 1
    # The queue retries the same push: only the second message goes out.
    again = await rig.telegram.channel.send("7203", [STATUS, Outbound("second")])
    assert again.outcome == Delivery.SENT
    assert [c.params["text"] for c in rig.api.sent(7203)] == [STATUS.text, "second"]
    # A later, identical push is a new push: sent in full.
    assert (await rig.telegram.channel.send("7203", [STATUS])).outcome == Delivery.SENT
    assert len(rig.api.sent(7203)) == 3


async def test_a_403_marks_the_resident_unreachable_until_they_write_again(rig: Rig) -> None:
    rig.api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    result = await rig.telegram.channel.send("7204", [STATUS])
    assert result.outcome == Delivery.UNREACHABLE
    assert await rig.bot.redis.sismember(UNREACHABLE_KEY, "7204")
    calls = len(rig.api.calls)
    again = await rig.telegram.channel.send("7204", [STATUS])
    assert again.outcome == Delivery.UNREACHABLE and len(rig.api.calls) == calls  # no API call at all
    assert await rig.post(TgUser(7204).text(rig.next_id(), "/start")) == 200
    assert not await rig.bot.redis.sismember(UNREACHABLE_KEY, "7204")
    assert (await rig.telegram.channel.send("7204", [STATUS])).outcome == Delivery.SENT


async def test_a_bad_request_fails_and_a_server_error_is_retried(rig: Rig) -> None:
    rig.api.fail("sendMessage", 400, "Bad Request: chat not found")
    assert (await rig.telegram.channel.send("7205", [STATUS])).outcome == Delivery.FAILED
    rig.api.fail("sendMessage", 502, "Bad Gateway")
    result = await rig.telegram.channel.send("7205", [STATUS])
    assert result.outcome == Delivery.RETRY and result.retry_after > 0


async def test_pushes_keep_to_one_message_a_second_per_chat(rig: Rig) -> None:
    rig.telegram.sender.limiter = RateLimiter(per_chat=1.0, chat_burst=1, overall=30, overall_burst=30)
    started = time.monotonic()
    result = await rig.telegram.channel.send("7206", [Outbound(f"update {n}") for n in range(3)])
    assert result.outcome == Delivery.SENT
    times = [c.at for c in rig.api.sent(7206)]
    assert times[2] - times[0] >= 1.9
    assert time.monotonic() - started >= 1.9
