"""Pushes through the local WeChat API: the 48-hour window, its 5 messages, fallbacks, holding."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from connectors.base import Delivery
from connectors.wechat.api import WeChatApi
from connectors.wechat.channel import WeChatChannel
from dialogs.messages import Outbound
from tests.fakes import FakeUnderstander
from tests.support.wechat_api import APP_ID, APP_SECRET
from tests.wechat.conftest import world

UPDATE = [Outbound("您的建议 JA-2026-000001「公园厕所」有新进展:已受理。\n说明:已转交市容所。")]


def channel_of(w: object) -> WeChatChannel:
    wechat = w.bot.wechat  # type: ignore[attr-defined]
    assert wechat is not None
    return wechat.channel  # type: ignore[no-any-return]


async def test_push_inside_the_window_then_its_five_message_count(data_dir: Path) -> None:
    async with world(data_dir, "safe", FakeUnderstander()) as w:
        channel = channel_of(w)
        await w.resident("o-gina").say("你好")
        for _ in range(5):
            assert (await channel.send("o-gina", UPDATE)).outcome == Delivery.SENT
        assert len(w.server.texts_to("o-gina")) == 5
        # The sixth: no template configured, so it is held, and never sent as a seventh try.
        assert (await channel.send("o-gina", UPDATE)).outcome == Delivery.HELD
        assert len(w.server.custom) == 5


async def test_outside_the_window_falls_back_to_the_template(data_dir: Path) -> None:
    async with world(data_dir, "safe", FakeUnderstander(), wechat_template_id="tpl-status") as w:
        channel = channel_of(w)
        await w.resident("o-hana").say("你好")
        channel.clock = lambda: time.time() + 49 * 3600  # two days later
        w.server.clock_offset = 49 * 3600
        assert (await channel.send("o-hana", UPDATE)).outcome == Delivery.SENT
        assert w.server.custom == []
        (template,) = w.server.templates
        assert template["template_id"] == "tpl-status" and template["touser"] == "o-hana"
        assert template["data"]["first"]["value"].startswith("您的建议 JA-2026-000001")
        assert template["data"]["keyword1"]["value"] == "说明:已转交市容所。"


async def test_platform_refusal_45015_is_not_a_send_and_falls_back(data_dir: Path) -> None:
    async with world(data_dir, "safe", FakeUnderstander(), wechat_subscribe_template_id="sub-status") as w:
        channel = channel_of(w)
        await w.resident("o-ivan").say("你好")
        w.server.clock_offset = 49 * 3600  # our record says inside, the platform says outside
        w.server.subscribed.add("o-ivan")
        assert (await channel.send("o-ivan", UPDATE)).outcome == Delivery.SENT
        assert w.server.custom == [] and len(w.server.subscribes) == 1
        assert w.server.subscribes[0]["data"]["thing1"]["value"].startswith("您的建议")
        # 45047 (count spent) likewise: the subscription was used once, so now it is held.
        w.server.clock_offset = 0
        w.server.sent_since["o-ivan"] = 5
        await channel.redis.delete("ms:wechat:sent:o-ivan")
        assert (await channel.send("o-ivan", UPDATE)).outcome == Delivery.HELD


async def test_held_push_comes_with_the_next_reply(data_dir: Path) -> None:
    async with world(data_dir, "safe", FakeUnderstander()) as w:
        channel = channel_of(w)
        jun = w.resident("o-jun")
        await jun.say("你好")
        channel.clock = lambda: time.time() + 49 * 3600
        assert (await channel.send("o-jun", UPDATE)).outcome == Delivery.HELD
        assert (await channel.send("o-jun", UPDATE)).outcome == Delivery.HELD
        channel.clock = time.time
        reply = await jun.say("你好")
        assert reply.text.startswith("您有 2 条建议进度更新:")
        assert reply.text.count("JA-2026-000001") == 2 and "请问您要办什么事" in reply.text
        again = await jun.say("你好")
        assert "进度更新" not in again.text  # delivered once


async def test_a_held_push_goes_by_customer_service_with_a_slow_answer(data_dir: Path) -> None:
    from tests.wechat.test_webhook import SlowUnderstander

    async with world(data_dir, "safe", SlowUnderstander(0.5), wechat_reply_budget_s=0.1) as w:
        channel = channel_of(w)
        channel.clock = lambda: time.time() + 49 * 3600
        assert (await channel.send("o-kai", UPDATE)).outcome == Delivery.HELD
        channel.clock = time.time
        assert (await w.resident("o-kai").say("你好")).body == "success"
        for _ in range(100):
            if w.server.custom:
                break
            await asyncio.sleep(0.05)
        texts = w.server.texts_to("o-kai")
        assert len(texts) == 1 and texts[0].startswith("您有 1 条建议进度更新") and "请问您要办什么事" in texts[0]


async def test_api_failures_are_failures_or_retries(data_dir: Path) -> None:
    async with world(data_dir, "safe", FakeUnderstander()) as w:
        channel = channel_of(w)
        await w.resident("o-lin").say("你好")
        w.server.fail("/cgi-bin/message/custom/send", status=502)
        result = await channel.send("o-lin", UPDATE)
        assert result.outcome == Delivery.RETRY and result.retry_after > 0
        w.server.fail("/cgi-bin/message/custom/send", errcode=40003)  # invalid openid
        assert (await channel.send("o-lin", UPDATE)).outcome == Delivery.FAILED
        w.server.fail("/cgi-bin/message/custom/send", errcode=43004)  # unsubscribed meanwhile
        assert (await channel.send("o-lin", UPDATE)).outcome == Delivery.UNREACHABLE
        assert (await channel.send("o-lin", UPDATE)).outcome == Delivery.UNREACHABLE
        assert w.server.custom == []


async def test_token_is_refreshed_once_on_40001_and_shared_by_workers(data_dir: Path) -> None:
    async with world(data_dir, "safe", FakeUnderstander()) as w:
        channel = channel_of(w)
        await w.resident("o-mei").say("你好")
        assert (await channel.send("o-mei", UPDATE)).outcome == Delivery.SENT
        assert len(w.server.token_calls) == 1
        w.server.tokens.append("rotated-elsewhere")  # our cached token is no longer valid
        assert (await channel.send("o-mei", UPDATE)).outcome == Delivery.SENT
        assert [c["force_refresh"] for c in w.server.token_calls] == [False, True]
        # Four more workers, same Redis, cold start: one stable_token call among them.
        await w.bot.redis.delete("ms:wechat:token")
        workers = [WeChatApi(w.bot.redis, APP_ID, APP_SECRET, w.api_base) for _ in range(4)]
        tokens = await asyncio.gather(*(api.token() for api in workers))
        assert len(set(tokens)) == 1 and len(w.server.token_calls) == 3
        for api in workers:
            await api.close()
        # Refreshed before WeChat's expiry: cached for expires_in minus a margin.
        ttl = await w.bot.redis.ttl("ms:wechat:token")
        assert 0 < ttl <= 7200 - 300
