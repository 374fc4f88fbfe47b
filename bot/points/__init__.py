"""Collection points (联系点): the defaults in points.toml beside this file, plus the staff's
edits (a registry, see bot/registry.py) which override them by id. A point's id is its WeChat QR
scene and its Telegram deep link (`?start=point_<id>`); a point may be linked to a campaign."""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from bot.registry import Registry
from dialogs.campaign_info import PointInfo
from dialogs.places import DISTRICT_WIDE, STREETS

DATA = Path(__file__).with_name("points.toml")
POINT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")  # no '_': `<point>__<campaign>` scenes stay unambiguous
TYPES = {
    "community_centre": "社区中心",
    "park": "公园",
    "landmark": "地标",
    "party_service": "党群服务站",
    "street_office": "街道办事处",
}


class PointError(ValueError):
    pass


@dataclass(slots=True)
class Point:
    id: str
    name: str
    type: str
    street: str
    address: str = ""
    campaign: str = ""  # a campaign this point collects for

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Point:
        known = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in raw.items() if k in known})

    def info(self) -> PointInfo:
        return PointInfo(self.id, self.name, self.street, self.campaign, self.type)

    @property
    def type_label(self) -> str:
        return TYPES.get(self.type, self.type)


def validate(point: Point) -> Point:
    point.name, point.address = point.name.strip(), point.address.strip()
    if not POINT_ID.match(point.id):
        raise PointError("id: 2-41 characters of a-z, 0-9 and '-'")
    if not 2 <= len(point.name) <= 40:
        raise PointError("name: 2-40 characters")
    if point.type not in TYPES:
        raise PointError(f"type: one of {', '.join(TYPES)}")
    if point.street not in (*STREETS, DISTRICT_WIDE):
        raise PointError(f"street: one of Jing'an's 14 streets/towns or {DISTRICT_WIDE}")
    if len(point.address) > 100:
        raise PointError("address: at most 100 characters")
    return point


def load_defaults(path: Path = DATA) -> dict[str, Point]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return {p.id: validate(p) for p in (Point.from_dict(item) for item in raw.get("point", []))}


class Points:
    def __init__(self, registry: Registry, defaults: dict[str, Point] | None = None) -> None:
        self.registry = registry
        self.defaults = load_defaults() if defaults is None else defaults
        self.version = 0

    async def all(self) -> list[Point]:
        merged = dict(self.defaults)
        for key, raw in (await self.registry.all()).items():
            if raw.get("deleted"):
                merged.pop(key, None)
            else:
                merged[key] = Point.from_dict(raw)
        return sorted(merged.values(), key=lambda p: (_street_order(p.street), p.id))

    async def get(self, point_id: str) -> Point | None:
        return next((p for p in await self.all() if p.id == point_id), None)

    async def put(self, point: Point) -> Point:
        validate(point)
        await self.registry.put(point.id, point.to_dict())
        self.version += 1
        return point


def _street_order(street: str) -> int:
    return STREETS.index(street) if street in STREETS else len(STREETS)
