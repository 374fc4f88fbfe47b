"""Talking to the backend: over the signed HTTP contract, or to the in-process reference backend."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from backend.service import Invalid, NotFound, Office
from bot import signing


@dataclass(frozen=True, slots=True)
class Reply:
    """How the backend answered: `ok`, or a transient failure to retry, or a permanent one."""

    ok: bool
    permanent: bool = False
    detail: str = ""


class BackendClient(Protocol):
    async def submit(self, record: dict[str, Any]) -> Reply: ...

    async def message(self, suggestion_id: str, key: str, kind: str, body: dict[str, Any]) -> Reply: ...

    async def close(self) -> None: ...


class HttpBackend:
    def __init__(self, base_url: str, secret: str, timeout_s: float = 10.0) -> None:
        self.base = base_url.rstrip("/")
        self.secret = secret
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def _post(self, path: str, body: dict[str, Any], key: str) -> Reply:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        raw = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key, **signing.sign(self.secret, raw)}
        try:
            async with self._session.post(f"{self.base}{path}", data=raw, headers=headers) as resp:
                detail = f"HTTP {resp.status}"
                if resp.status < 300:
                    return Reply(True, detail=detail)
                # 4xx: the request itself is wrong and will stay wrong — except 408/429 (wait).
                permanent = 400 <= resp.status < 500 and resp.status not in (408, 425, 429)
                return Reply(False, permanent=permanent, detail=detail)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Reply(False, detail=type(exc).__name__)

    async def submit(self, record: dict[str, Any]) -> Reply:
        return await self._post("/suggestions", record, record["id"])

    async def message(self, suggestion_id: str, key: str, kind: str, body: dict[str, Any]) -> Reply:
        return await self._post(f"/suggestions/{suggestion_id}/messages", {"kind": kind, "body": body}, key)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class InProcessBackend:
    """The embedded default: the reference backend in this process, called directly."""

    def __init__(self, office: Office) -> None:
        self.office = office

    async def submit(self, record: dict[str, Any]) -> Reply:
        try:
            await self.office.submit(record, record["id"])
        except Invalid as exc:
            return Reply(False, permanent=True, detail=str(exc))
        return Reply(True)

    async def message(self, suggestion_id: str, key: str, kind: str, body: dict[str, Any]) -> Reply:
        try:
            await self.office.add_message(suggestion_id, key, kind, body)
        except (Invalid, NotFound) as exc:
            return Reply(False, permanent=True, detail=type(exc).__name__)
        return Reply(True)

    async def close(self) -> None:
        return None
