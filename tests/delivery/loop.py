"""Real processes on loopback for the closing-the-loop tests: redis-server, the reference
backend (`minsheng backend serve`) and the bot (`minsheng run`)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from tests.support.app import RestClient
from tests.support.process import BotProcess
from tests.support.redis_server import RedisServer, free_port

SECRET = "loop-secret"
ADMIN = "loop-admin-token"
T = TypeVar("T")

SCRIPT = ["你好", "1", "2", "全区", "常德路康定路口早上学生很多,没有红绿灯,车开得很快", "建议加装红绿灯和减速带",
          "跳过", "跳过", "匿名", "同意"]


class Loop:
    def __init__(self, tmp: Path, backend_via: str | None = None) -> None:
        self.tmp = tmp
        self.redis = RedisServer(tmp / "redis")
        self.backend_port = free_port()
        self.bot_port = free_port()
        self.backend_env = {
            "MINSHENG_DATA_DIR": str(tmp / "office"),
            "BACKEND_SECRET": SECRET,
            "BACKEND_ADMIN_TOKEN": ADMIN,
            "BOT_EVENTS_URL": f"http://127.0.0.1:{self.bot_port}/backend/events",
        }
        self.backend = BotProcess(self.backend_env, tmp, ("backend", "serve"), port=self.backend_port)
        self.backend_url = f"http://127.0.0.1:{self.backend_port}"
        self.bot_env = {
            "REDIS_URL": self.redis.url,
            "MINSHENG_DATA_DIR": str(tmp / "bot"),
            "BACKEND_URL": backend_via or self.backend_url,
            "BACKEND_SECRET": SECRET,
            "DELIVERY_BACKOFF_SECONDS": "0.05",
            "DELIVERY_BACKOFF_CAP_SECONDS": "0.3",
            "DELIVERY_LEASE_SECONDS": "2",
        }
        self.bot = BotProcess(self.bot_env, tmp, ("run",), port=self.bot_port)

    def new_bot(self) -> BotProcess:
        self.bot = BotProcess(self.bot_env, self.tmp, ("run",), port=self.bot_port)
        return self.bot

    def stop(self) -> None:
        self.bot.stop()
        self.backend.stop()
        self.redis.stop()

    def __enter__(self) -> Loop:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def office(self, *args: str) -> str:
        """Run a staff command of the reference backend, as an operator would."""
        env = {**os.environ, **self.backend_env}
        done = subprocess.run([sys.executable, "-m", "bot.cli", "backend", *args], env=env, capture_output=True,
                              text=True, timeout=60, check=False, cwd=Path(__file__).parents[2])
        assert done.returncode == 0, done.stderr
        return done.stdout

    async def records(self, session: aiohttp.ClientSession) -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with session.get(f"{self.backend_url}/suggestions", headers=headers) as resp:
            assert resp.status == 200
            listed: list[dict[str, Any]] = await resp.json()
            return listed

    async def record(self, session: aiohttp.ClientSession, suggestion_id: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with session.get(f"{self.backend_url}/suggestions/{suggestion_id}", headers=headers) as resp:
            assert resp.status == 200
            record: dict[str, Any] = await resp.json()
            return record


async def submit(resident: RestClient) -> str:
    for text in SCRIPT:
        await resident.say(text)
    receipt = await resident.say("确认")
    assert "建议编号" in receipt, receipt
    return receipt.split("建议编号 ")[1].split("。")[0]


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 20) -> T:
    """Poll until `probe` returns something truthy (bounded in time)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


async def pushes(session: aiohttp.ClientSession, base: str, sender: str) -> list[dict[str, Any]]:
    async with session.get(f"{base}/webhooks/rest/pushes/{sender}") as resp:
        assert resp.status == 200
        items: list[dict[str, Any]] = await resp.json()
        return items
