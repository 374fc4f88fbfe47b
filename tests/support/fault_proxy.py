"""A fault-injecting HTTP proxy on loopback, in front of a real server.

`down` requests are refused with 503 without reaching the server; `fail_after_store` requests
reach the server, and then the proxy answers 500 anyway (as if the reply was lost).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from tests.support.app import serve


class FaultProxy:
    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.down = 0
        self.fail_after_store = 0
        self.seen: list[tuple[str, int]] = []  # (path, status answered)

    async def forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.down > 0:
            self.down -= 1
            self.seen.append((request.path, 503))
            return web.json_response({"error": "injected outage"}, status=503)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with aiohttp.ClientSession() as session, session.request(
            request.method, self.target + request.path_qs, data=body, headers=headers
        ) as resp:
            payload = await resp.read()
            status = resp.status
        if self.fail_after_store > 0:
            self.fail_after_store -= 1
            self.seen.append((request.path, 500))
            return web.json_response({"error": "injected failure after storing"}, status=500)
        self.seen.append((request.path, status))
        return web.Response(body=payload, status=status, content_type="application/json")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.forward)
        async with serve(app) as base:
            yield base
