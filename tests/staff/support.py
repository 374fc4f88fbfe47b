"""Helpers for the staff tests: settings, a bot with the console, a logged-in staff member."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bot.bootstrap import Bot
from bot.settings import Settings, load_settings
from bot.staff.queue import Case
from bot.storage import connect
from tests.fakes import FakeUnderstander
from tests.support.app import running_bot

PASSWORD = "correct horse battery"
ALWAYS_OPEN = "mon-sun 00:00-23:59"


def staff_settings(data_dir: Path, redis_url: str | None, **more: object) -> Settings:
    overrides: dict[str, object] = {"data_dir": data_dir, "secret": "s", "staff_office_hours": ALWAYS_OPEN}
    if redis_url:
        overrides["redis_url"] = redis_url
    overrides.update(more)
    return load_settings(**overrides)


@asynccontextmanager
async def console_bot(settings: Settings, *staff: tuple[str, str]) -> AsyncIterator[tuple[Bot, str]]:
    """The whole app on loopback (fake NLU), with staff accounts (username, unit)."""
    if settings.redis_url:  # a clean database before the app creates its consumer groups
        client = connect(settings.redis_url)
        await client.flushdb()
        await client.aclose()
    async with running_bot(settings, FakeUnderstander()) as (bot, base):
        assert bot.staff is not None
        await bot.staff.intake.ensure_group()
        for username, unit in staff:
            bot.staff.accounts.add(username, unit, PASSWORD, name=username.title(), replace=True)
        yield bot, base


async def wait_for_case(bot: Bot, count: int = 1, timeout: float = 10) -> list[Case]:
    assert bot.staff is not None
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        cases = await bot.staff.cases.queue()
        if len(cases) >= count:
            return cases
        assert asyncio.get_running_loop().time() < deadline, "no case appeared"
        await asyncio.sleep(0.05)


class StaffClient:
    """A staff member's browser, as plain HTTP: cookies, Origin header and CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        # unsafe: keep cookies for 127.0.0.1 (aiohttp drops cookies of IP hosts by default)
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def __aenter__(self) -> StaffClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.session.close()

    async def login(self, username: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
        page = await self.get("/staff/login")
        token = _csrf(page)
        async with self.session.post(f"{self.base}/staff/login", allow_redirects=False,
                                     data={"csrf": token, "username": username, "password": password},
                                     headers={"Origin": self.base}) as resp:
            await resp.read()
        if resp.status == 303:
            self.csrf = _csrf(await self.get("/staff/"))
        return resp

    async def get(self, path: str, **headers: str) -> str:
        async with self.session.get(f"{self.base}{path}", headers=headers) as resp:
            assert resp.status == 200, (path, resp.status)
            return await resp.text()

    async def raw(self, method: str, path: str, data: dict[str, str] | None = None,
                  headers: dict[str, str] | None = None) -> tuple[int, str, str]:
        async with self.session.request(method, f"{self.base}{path}", data=data, headers=headers or {},
                                        allow_redirects=False) as resp:
            return resp.status, resp.headers.get("Location", ""), await resp.text()

    async def post(self, path: str, **data: str) -> tuple[int, str, str]:
        return await self.raw("POST", path, {"csrf": self.csrf, **data}, {"Origin": self.base})


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:300]
    return found[1]


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)
