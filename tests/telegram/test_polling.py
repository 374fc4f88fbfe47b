"""Long polling: an update is confirmed only after it was handled, never dropped."""

from __future__ import annotations

import asyncio
from pathlib import Path

from connectors.telegram.polling import PARKED_KEY
from dialogs.understanding import Understander
from tests.support.telegram_api import LocalBotApi, TgUser
from tests.telegram.conftest import rig_for


async def test_an_update_whose_answer_failed_is_fetched_again_and_answered(
    api: LocalBotApi, data_dir: Path, nlu: Understander, redis_url: str
) -> None:
    async with rig_for(api, data_dir, nlu, redis_url, polling=True) as rig:
        user = TgUser(7401)
        api.fail("sendMessage", 502, "Bad Gateway", times=2)
        update = user.text(rig.next_id(), "/start")
        api.queue(update)
        await rig.answered(update["update_id"])
        assert len(api.texts(user.id)) == 2  # welcome + menu, once each
        offsets = [int(c.params.get("offset", 0) or 0) for c in api.calls if c.method == "getUpdates"]
        assert offsets.count(update["update_id"]) >= 2  # not confirmed until handled
        assert await rig.bot.redis.llen(PARKED_KEY) == 0


async def test_an_update_that_keeps_failing_is_parked_not_dropped(
    api: LocalBotApi, data_dir: Path, nlu: Understander, redis_url: str
) -> None:
    async with rig_for(api, data_dir, nlu, redis_url, polling=True) as rig:
        user = TgUser(7402)
        api.fail("sendMessage", 502, "Bad Gateway", times=100)
        update = user.text(rig.next_id(), "/start")
        following = user.text(rig.next_id(), "hello")
        api.queue(update, following)
        # Five attempts a second apart, then parked; the next update is handled after it.
        for _ in range(200):
            if await rig.bot.redis.llen(PARKED_KEY):
                break
            await asyncio.sleep(0.05)
        parked = await rig.bot.redis.lrange(PARKED_KEY, 0, -1)
        assert len(parked) == 1 and b'"update_id":' + str(update["update_id"]).encode() in parked[0]
