"""Themed campaigns (主动征集): created by staff (console or `minsheng campaigns add`), listed to
residents while open, joined from the list, a QR scene / deep link (`campaign_<id>`), a point
linked to a campaign, or a menu key (`campaign:<id>`)."""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import Any

from bot.registry import Registry
from dialogs.campaign_info import CampaignInfo
from dialogs.categories import BY_KEY
from dialogs.places import DISTRICT_WIDE, STREETS

CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
MIN_QUESTIONS, MAX_QUESTIONS = 2, 3


class CampaignError(ValueError):
    """A campaign that breaks the rules (shown to staff as is)."""


@dataclass(slots=True)
class Campaign:
    id: str
    title: str
    description: str
    category: str  # a dialogs.categories key, or "" for any
    streets: list[str]  # empty: district-wide
    starts: str  # ISO date
    ends: str  # ISO date (last day included)
    questions: list[str]
    unit: str = ""  # the unit that created it (a street office's campaign is scoped to its street)
    closed_at: str = ""
    created_at: str = ""
    created_by: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def is_open(self, today: date) -> bool:
        return not self.closed_at and self.starts <= today.isoformat() <= self.ends

    def status(self, today: date) -> str:
        if self.closed_at or today.isoformat() > self.ends:
            return "closed"
        return "open" if today.isoformat() >= self.starts else "scheduled"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Campaign:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def info(self, today: date, collected: int = 0, adopted: int = 0) -> CampaignInfo:
        return CampaignInfo(self.id, self.title, self.description, self.category, tuple(self.streets), self.ends,
                            tuple(self.questions), self.is_open(today), collected, adopted)


def validate(campaign: Campaign) -> Campaign:
    campaign.title = campaign.title.strip()
    campaign.description = campaign.description.strip()
    campaign.questions = [q.strip() for q in campaign.questions if q.strip()]
    campaign.streets = [s.strip() for s in campaign.streets if s.strip() and s.strip() != DISTRICT_WIDE]
    if not CAMPAIGN_ID.match(campaign.id):
        raise CampaignError("id: 2-32 characters of a-z, 0-9 and '-'")
    if not 2 <= len(campaign.title) <= 40:
        raise CampaignError("title: 2-40 characters")
    if len(campaign.description) > 500:
        raise CampaignError("description: at most 500 characters")
    if campaign.category and campaign.category not in BY_KEY:
        raise CampaignError(f"category: one of {', '.join(BY_KEY)}")
    unknown = [s for s in campaign.streets if s not in STREETS]
    if unknown:
        raise CampaignError(f"unknown street: {', '.join(unknown)}")
    if not MIN_QUESTIONS <= len(campaign.questions) <= MAX_QUESTIONS:
        raise CampaignError(f"questions: {MIN_QUESTIONS} or {MAX_QUESTIONS} guiding questions")
    if any(len(q) > 200 for q in campaign.questions):
        raise CampaignError("questions: at most 200 characters each")
    try:
        starts, ends = date.fromisoformat(campaign.starts), date.fromisoformat(campaign.ends)
    except ValueError:
        raise CampaignError("dates: YYYY-MM-DD") from None
    if ends < starts:
        raise CampaignError("the end date is before the start date")
    return campaign


def new_id() -> str:
    return f"c{secrets.token_hex(3)}"


class Campaigns:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.version = 0  # bumped on every write through this object (the context cache reads it)

    async def all(self) -> list[Campaign]:
        items = [Campaign.from_dict(v) for v in (await self.registry.all()).values()]
        return sorted(items, key=lambda c: (c.starts, c.id), reverse=True)

    async def get(self, campaign_id: str) -> Campaign | None:
        raw = (await self.registry.all()).get(campaign_id)
        return Campaign.from_dict(raw) if raw else None

    async def add(self, campaign: Campaign, replace: bool = False) -> Campaign:
        validate(campaign)
        if not replace and await self.get(campaign.id) is not None:
            raise CampaignError(f"campaign {campaign.id} exists")
        campaign.created_at = campaign.created_at or datetime.now().astimezone().isoformat(timespec="seconds")
        await self.registry.put(campaign.id, campaign.to_dict())
        self.version += 1
        return campaign

    async def close(self, campaign_id: str) -> Campaign:
        campaign = await self.get(campaign_id)
        if campaign is None:
            raise CampaignError(f"no campaign {campaign_id}")
        if not campaign.closed_at:
            campaign.closed_at = datetime.now().astimezone().isoformat(timespec="seconds")
            await self.registry.put(campaign.id, campaign.to_dict())
            self.version += 1
        return campaign
