"""Who sees what (区—街镇—居民区): the district unit sees every record and escalation; a street
office its own and its neighbourhood committees'; a neighbourhood committee only its own.
Enforced on every console route and API, not only in the lists."""

from __future__ import annotations

from typing import Any

from backend.routing import Routing, default_routing
from bot.staff.queue import Case
from bot.staff.sessions import Session
from dialogs.places import STREETS


def routing() -> Routing:
    return default_routing()


def is_district(me: Session) -> bool:
    return me.unit == routing().district_unit


def sees_unit(me: Session, unit: str) -> bool:
    return routing().can_see(me.unit, unit)


def sees_record(me: Session, record: dict[str, Any]) -> bool:
    return sees_unit(me, str(record.get("unit", "")))


def sees_case(me: Session, case: Case) -> bool:
    """An escalation belongs to the unit of the resident's street; one not placed yet (the resident
    named no street, or 全区) is in the shared pool that every unit may pick up from."""
    if not case.street or case.street not in STREETS:
        return True
    return sees_unit(me, routing().street_unit(case.street))


def unit_filter(me: Session) -> str | None:
    """For Office.rows/list: None (all) for the district office, else the staff member's unit."""
    return None if is_district(me) else me.unit
