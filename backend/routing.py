"""Three-level routing (区—街镇—居民区): the unit that handles a record, from rules in a data
file (backend/routing.toml, or BACKEND_ROUTING_FILE), and who may see a unit's records."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dialogs.places import DISTRICT_WIDE, STREETS

RULES_FILE = Path(__file__).with_name("routing.toml")
DISTRICT_UNIT = "区人民建议征集办"
NEIGHBOURHOOD_SEPARATOR = "/"
# "华山居民区", "延中居委会", "xx居委": the name the resident gave, normalised to "<name>居民区".
_NEIGHBOURHOOD = re.compile(r"([\u4e00-\u9fa5]{2,6})(?:居民区|居委会|居委)")
_BOUNDARY = re.compile(r"^.*[路街弄号的在是近旁边里区内和与及、]")
# More than one street named in the location: a cross-street matter.
def _short(street: str) -> str:
    name = street.removesuffix("街道").removesuffix("镇")
    return name.removesuffix("路") if len(name) > 2 else name


_STREET_WORDS = tuple(_short(s) for s in STREETS)


@dataclass(frozen=True, slots=True)
class Rule:
    categories: tuple[str, ...]
    streets: tuple[str, ...]
    unit: str
    neighbourhood: bool = False
    only_if_cross_street: bool = False

    def matches(self, category: str, street: str, cross_street: bool) -> bool:
        if self.only_if_cross_street and not cross_street:
            return False
        return ("*" in self.categories or category in self.categories) and (
            "*" in self.streets or street in self.streets
        )


@dataclass(frozen=True, slots=True)
class Routing:
    district_unit: str = DISTRICT_UNIT
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def route(self, record: dict[str, Any]) -> str:
        category = str(record.get("category", ""))
        street = str(record.get("street", ""))
        detail = str(record.get("location_detail", ""))
        cross = cross_street(street, detail)
        for rule in self.rules:
            if not rule.matches(category, street, cross):
                continue
            unit = rule.unit.replace("{street}", street) if street in STREETS else rule.unit
            if "{street}" in unit:
                return self.district_unit
            if rule.neighbourhood and street in STREETS:
                name = neighbourhood_of(detail)
                if name:
                    return f"{unit}{NEIGHBOURHOOD_SEPARATOR}{name}"
            return unit
        return self.district_unit

    def can_see(self, staff_unit: str, record_unit: str) -> bool:
        """The district office sees all; a street office its own and its neighbourhoods'."""
        if staff_unit == self.district_unit:
            return True
        return bool(record_unit) and (
            record_unit == staff_unit or record_unit.startswith(staff_unit + NEIGHBOURHOOD_SEPARATOR)
        )

    def street_unit(self, street: str) -> str:
        """The unit an escalation about `street` goes to (no category yet)."""
        return street if street in STREETS else self.district_unit


def neighbourhood_of(detail: str) -> str:
    match = _NEIGHBOURHOOD.search(detail)
    if match is None:
        return ""
    name = _BOUNDARY.sub("", match.group(1))  # "华山路华山居委" → 华山
    return f"{name}居民区" if len(name) >= 2 else ""


def cross_street(street: str, detail: str) -> bool:
    if street == DISTRICT_WIDE:
        return True
    own = _short(street)
    return any(word not in own and word in detail for word in _STREET_WORDS)


def load_routing(path: Path | None = None) -> Routing:
    path = path or Path(os.environ.get("BACKEND_ROUTING_FILE") or RULES_FILE)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    rules = tuple(
        Rule(tuple(r.get("categories", ["*"])), tuple(r.get("streets", ["*"])), str(r["unit"]),
             bool(r.get("neighbourhood", False)), bool(r.get("only_if_cross_street", False)))
        for r in raw.get("rule", [])
    )
    return Routing(str(raw.get("district_unit", DISTRICT_UNIT)), rules)


_DEFAULT: Routing | None = None


def default_routing() -> Routing:
    global _DEFAULT  # noqa: PLW0603 - read the data file once per process
    if _DEFAULT is None:
        _DEFAULT = load_routing()
    return _DEFAULT
