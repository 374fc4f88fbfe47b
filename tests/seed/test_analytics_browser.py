"""The analytics page in a real browser over seeded records: the locally served Chart.js draws
every chart (no CDN: the page's CSP allows only 'self'). MINSHENG_SCREENSHOTS=docs refreshes
docs/staff-analytics.png."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.seed.support import seed, toilets
from tests.staff.support import PASSWORD, console_bot, staff_settings
from tests.staff.test_browser import browser, shot

__all__ = ["browser"]


async def test_analytics_charts_render(browser: Browser, data_dir: Path, redis_url: str, tmp_path: Path) -> None:
    async with console_bot(staff_settings(data_dir, redis_url), ("zhao", "区人民建议征集办")) as (bot, base):
        assert bot.outreach is not None
        await bot.outreach.campaigns.add(toilets())
        await seed(bot)
        page = await (await browser.new_context(viewport={"width": 1280, "height": 1400}, locale="zh-CN")).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        external: list[str] = []
        page.on("request", lambda req: external.append(req.url) if not req.url.startswith(base) else None)
        await page.goto(f"{base}/staff/login")
        await page.fill("input[name=username]", "zhao")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.goto(f"{base}/staff/analytics")
        await expect(page.locator("h1")).to_have_text("数据分析")
        await expect(page.locator("#stat-total")).to_have_text("7")
        await expect(page.locator("#stat-rate")).to_have_text("67%")  # 2 adopted of 3 decided
        await expect(page.locator("[data-analytics][data-rendered='1']")).to_have_count(1, timeout=10_000)
        canvases = page.locator("canvas[data-key]")
        assert await canvases.count() == 6
        for i in range(6):
            canvas = canvases.nth(i)
            await expect(canvas).to_have_attribute("data-rendered", "1")
            drawn = await canvas.evaluate(
                "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }")
            assert drawn > 500, await canvas.get_attribute("data-key")
        labels = await page.evaluate("Object.values(Chart.instances).map(c => c.data.labels).flat()")
        assert "公厕适老适幼化改造" in labels and "张园" in labels and "静安寺街道" in labels
        assert not errors, errors
        assert not external, external
        await shot(page, tmp_path, "staff-analytics.png")
