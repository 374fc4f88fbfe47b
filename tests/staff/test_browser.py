"""The console in a real browser (Debian's chromium driven by Playwright): log in, see a new
escalation appear live, claim it, reply (the resident gets it over the REST channel), see the
resident's answer appear live, release it (the bot answers at the step where they left).

Set MINSHENG_SCREENSHOTS=docs to refresh the README's screenshots."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.staff.support import PASSWORD, console_bot, staff_settings
from tests.support.app import RestClient

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-default-apps", "--disable-extensions", "--disable-sync",
        "--metrics-recording-only", "--no-first-run", "--mute-audio"]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        await launched.close()


async def pushed(http: aiohttp.ClientSession, base: str, sender: str, want: str) -> str:
    """Collect the resident's pushes until `want` arrives (the delivery worker runs in the app)."""
    got = ""
    for _ in range(200):
        async with http.get(f"{base}/webhooks/rest/pushes/{sender}") as resp:
            got += "\n".join(m["text"] for m in await resp.json())
        if want in got:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"{want!r} not pushed; got {got!r}")


async def shot(page: Page, tmp_path: Path, name: str) -> None:
    wanted = os.environ.get("MINSHENG_SCREENSHOTS", "")
    folder = Path(wanted) if wanted else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / name), full_page=True)


async def test_staff_console_in_a_browser(browser: Browser, data_dir: Path, redis_url: str, tmp_path: Path) -> None:
    settings = staff_settings(data_dir, redis_url)
    async with console_bot(settings, ("wang", "静安寺街道")) as (bot, base), aiohttp.ClientSession() as http:
        page = await (await browser.new_context(viewport={"width": 1280, "height": 820}, locale="zh-CN")).new_page()
        await page.goto(f"{base}/staff/")
        await expect(page).to_have_url(f"{base}/staff/login")
        await page.fill("input[name=username]", "wang")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await expect(page.locator("h1")).to_have_text("转人工队列")
        await expect(page.locator("#queue")).to_contain_text("队列是空的")

        # Two residents escalate while the page is open: the rows appear without a reload.
        await bot.redis.xadd("ms:escalations", {
            "ref": "r-elder", "conversation": "wechat:elder-1", "reason": "callback", "urgent": "0",
            "street": "静安寺街道", "phone": "13800001111",
            "at": (datetime.now(UTC) - timedelta(minutes=25)).isoformat()})
        resident = RestClient(http, base, "browser-resident")
        await resident.say("你好")
        await resident.press("提建议")
        await resident.press("交通出行")
        await resident.say("找人工")
        row = page.locator("tr[data-case]", has_text="要求人工")
        await expect(row).to_be_visible(timeout=10_000)
        await expect(page.locator("tr[data-case]")).to_have_count(2)
        await expect(page.locator("#queue")).not_to_contain_text("13800001111")
        await shot(page, tmp_path, "staff-queue.png")

        await row.locator("a").click()
        await page.click("#claim")
        await expect(page.locator("#status")).to_contain_text("由 wang")
        assert "静安寺街道的工作人员已接入" in await pushed(http, base, "browser-resident", "已接入")

        await page.fill("#reply textarea", "您好,我是静安寺街道的小王。请问是哪个路口?")
        await page.click("#reply button")
        await expect(page.locator("#transcript")).to_contain_text("请问是哪个路口")
        await expect(page.locator("#reply textarea")).to_have_value("")
        assert "请问是哪个路口" in await pushed(http, base, "browser-resident", "哪个路口")

        assert await resident.say("常德路康定路口,早上学生多") == ""  # relayed: the bot is silent
        await expect(page.locator("#transcript li.resident").last).to_contain_text("常德路康定路口", timeout=10_000)
        await shot(page, tmp_path, "staff-conversation.png")

        await page.click("#release")
        await expect(page).to_have_url(f"{base}/staff/")
        await expect(page.locator("tr[data-case]")).to_have_count(1)  # only the call-back is left
        assert "交还给民声助手" in await pushed(http, base, "browser-resident", "交还")
        assert "第 3 步" in await resident.say("全区")  # the form resumes at step 2 → 3
        await page.context.close()
