"""Campaigns, collection points and the records behind their counts, brought together for the
turn pipeline (the dialog `Context` of every turn) and for the staff console.

`Outreach.context()` is the pipeline's context provider: open (and recently closed) campaigns with
their counts, and the collection points, cached for a few seconds so that a turn costs no extra
round trip most of the time; a write through this process's registries refreshes it at once."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import aiohttp

from backend.service import NotFound, Office
from bot import logs
from bot.campaigns import Campaigns
from bot.points import Points
from dialogs.base import Context
from dialogs.campaign_info import CampaignInfo
from dialogs.record import Status

log = logs.get("minsheng.outreach")

OFFICE_TZ = ZoneInfo("Asia/Shanghai")
ADOPTED = frozenset({Status.ADOPTED.value, Status.PARTIALLY_ADOPTED.value})
CLOSED_SHOWN_DAYS = 90  # a closed campaign is still recognised (and answered politely) this long


def today() -> date:
    return datetime.now(OFFICE_TZ).date()


class RecordReader(Protocol):
    """The records in the backend, as staff may read them (`unit` None: all)."""

    async def rows(self, unit: str | None = None) -> list[dict[str, Any]]: ...

    async def get(self, suggestion_id: str) -> dict[str, Any] | None: ...


class OfficeReader:
    """The reference backend in this process (BACKEND_URL unset)."""

    def __init__(self, office: Office) -> None:
        self.office = office

    async def rows(self, unit: str | None = None) -> list[dict[str, Any]]:
        return await self.office.rows(unit)

    async def get(self, suggestion_id: str) -> dict[str, Any] | None:
        try:
            return await self.office.get(suggestion_id)
        except NotFound:
            return None


class HttpReader:
    """A backend over HTTP: its staff API (`BACKEND_ADMIN_TOKEN`), see backend/openapi.yaml."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base = base_url.rstrip("/")
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    async def _get(self, path: str) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        async with self._session.get(self.base + path, headers={"Authorization": f"Bearer {self.token}"}) as resp:
            if resp.status == 404:
                return None
            resp.raise_for_status()
            return await resp.json()

    async def rows(self, unit: str | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._get("/analytics/rows" + (f"?unit={unit}" if unit else ""))
        return rows

    async def get(self, suggestion_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await self._get(f"/suggestions/{suggestion_id}")
        return found

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def campaign_counts(rows: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """campaign id → (collected, adopted or partially adopted)."""
    counts: dict[str, list[int]] = {}
    for row in rows:
        if row.get("campaign"):
            pair = counts.setdefault(str(row["campaign"]), [0, 0])
            pair[0] += 1
            pair[1] += row.get("status") in ADOPTED or any(h.get("status") in ADOPTED for h in row.get("history", []))
    return {k: (v[0], v[1]) for k, v in counts.items()}


@dataclass(slots=True)
class Outreach:
    campaigns: Campaigns
    points: Points
    records: RecordReader | None
    base: Context = field(default_factory=Context)
    ttl_s: float = 5.0
    counts_ttl_s: float = 30.0
    _parts: dict[str, Any] | None = None  # the Context fields this adds, cached
    _built_at: float = 0.0
    _versions: tuple[int, int] = (-1, -1)
    _counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    _counted_at: float = -1e9
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def counts(self) -> dict[str, tuple[int, int]]:
        if self.records is None:
            return {}
        if time.monotonic() - self._counted_at > self.counts_ttl_s:
            try:
                self._counts = campaign_counts(await self.records.rows())
            except Exception as exc:  # a backend away: the campaigns are still listed, without counts
                log.warning("campaign counts unavailable", error=type(exc).__name__)
            self._counted_at = time.monotonic()
        return self._counts

    def refresh(self) -> None:
        self._parts = None
        self._counted_at = -1e9

    async def context(self, base: Context | None = None) -> Context:
        """`base` (the pipeline's own context) with the campaigns and points filled in."""
        versions = (self.campaigns.version, self.points.version)
        fresh = self._parts is not None and time.monotonic() - self._built_at < self.ttl_s
        if not fresh or versions != self._versions:
            async with self._lock:
                self._parts = await self._build()
                self._built_at, self._versions = time.monotonic(), versions
        return replace(base or self.base, **(self._parts or {}))

    async def infos(self) -> list[CampaignInfo]:
        day = today()
        counts = await self.counts()
        shown = []
        for campaign in await self.campaigns.all():
            if campaign.starts > day.isoformat():
                continue  # scheduled: not known to residents yet
            ended = campaign.closed_at[:10] or campaign.ends
            if not campaign.is_open(day) and ended < (day - timedelta(days=CLOSED_SHOWN_DAYS)).isoformat():
                continue
            collected, adopted = counts.get(campaign.id, (0, 0))
            shown.append(campaign.info(day, collected, adopted))
        return shown

    async def _build(self) -> dict[str, Any]:
        try:
            infos = await self.infos()
            points = {p.id: p.info() for p in await self.points.all()}
        except Exception as exc:  # never fail a turn for the registries: no campaigns this turn
            log.warning("outreach registries unavailable", error=type(exc).__name__)
            return {}
        titles = tuple(c.title for c in infos if c.open)
        return {"campaigns": titles, "campaign_info": tuple(infos), "points": points}
