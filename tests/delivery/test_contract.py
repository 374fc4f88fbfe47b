"""The contract document served by the reference backend describes every route it serves."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import yaml

from backend.app import build_backend_app
from backend.db import engine_for
from backend.events import EventSender
from backend.migrate import upgrade
from backend.service import Office
from tests.support.app import serve


async def test_openapi_document_covers_the_served_routes(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'office.db'}"
    await asyncio.to_thread(upgrade, url)
    office = Office(engine_for(url))

    async def nowhere(_: dict[str, object]) -> bool:
        return False

    app = build_backend_app(office, EventSender(office, nowhere), "secret", "token")
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    try:
        async with (
            serve(app) as base,
            aiohttp.ClientSession() as session,
            session.get(f"{base}/openapi.yaml") as resp,
        ):
            assert resp.status == 200
            spec = yaml.safe_load(await resp.text())
    finally:
        await office.close()
    documented = {(method, path) for path, item in spec["paths"].items() for method in item if method != "servers"}
    undocumented = {r for r in served if r[1] not in ("/openapi.yaml", "/healthz")} - documented
    assert not undocumented, undocumented
    assert ("post", "/backend/events") in documented  # the bot's side of the contract
