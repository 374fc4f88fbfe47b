"""State survives a killed bot process and a restarted redis-server (AOF)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.support.app import RestClient
from tests.support.process import BotProcess
from tests.support.redis_server import RedisServer


async def test_conversation_survives_bot_kill_and_redis_restart(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    env = {"REDIS_URL": redis.url, "MINSHENG_DATA_DIR": str(tmp_path / "data"), "MINSHENG_SECRET": "s"}
    bot = BotProcess(env, tmp_path).start()
    try:
        async with aiohttp.ClientSession() as session:
            carol = RestClient(session, bot.base, "carol")
            await carol.say("你好")
            await carol.say("1")
            assert "第 3 步" in await carol.say("2") + await carol.say("全区")
            bot.kill()
            redis.restart()
            bot = BotProcess(env, tmp_path).start()
            carol.base = bot.base
            reply = await carol.say("路口没有红绿灯,上学时间很危险")
            assert "第 4 步" in reply  # the form went on where it was
    finally:
        bot.stop()
        redis.stop()
