"""What the reference backend does, independent of HTTP or the CLI."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.db import Event, ResidentMessage, StatusChange, Suggestion, now
from backend.routing import Routing, default_routing
from dialogs.record import Status

# Where a status may go next: forward only; the outcomes share one rank; closed is final.
RANK = {
    Status.SUBMITTED: 0,
    Status.ACCEPTED: 1,
    Status.FORWARDED: 2,
    Status.IN_PROGRESS: 3,
    Status.ADOPTED: 4,
    Status.PARTIALLY_ADOPTED: 4,
    Status.FOR_REFERENCE: 4,
    Status.NOT_ADOPTED: 4,
    Status.REPLIED: 5,
    Status.CLOSED: 6,
}
REQUIRED = ("id", "channel", "resident_ref", "category", "street", "title", "problem", "proposal", "submitted_at")


class NotFound(Exception):
    pass


class Invalid(Exception):
    """The request breaks the contract (bad record, bad status move): a 4xx, never retried."""


@dataclass(frozen=True, slots=True)
class Accepted:
    created: bool
    reference: str


class Office:
    def __init__(self, engine: AsyncEngine, routing: Routing | None = None) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.routing = routing or default_routing()  # 区—街镇—居民区: the unit each record goes to

    async def close(self) -> None:
        await self.engine.dispose()

    # ---- from the bot ------------------------------------------------------------------------

    async def submit(self, record: dict[str, Any], idempotency_key: str) -> Accepted:
        missing = [k for k in REQUIRED if not record.get(k)]
        if missing:
            raise Invalid(f"missing fields: {', '.join(missing)}")
        if record["id"] != idempotency_key:
            raise Invalid("Idempotency-Key must be the suggestion id")
        async with self.sessions() as db:
            existing = await db.get(Suggestion, record["id"])
            if existing is not None:
                return Accepted(False, existing.reference)
            suggestion = Suggestion(
                id=record["id"],
                reference=f"OFFICE-{uuid.uuid4().hex[:12].upper()}",
                resident_ref=record["resident_ref"],
                channel=record["channel"],
                language=record.get("language", "zh"),
                category=record["category"],
                street=record["street"],
                title=record["title"],
                status=Status.SUBMITTED.value,
                unit=self.routing.route(record),
                record=record,
            )
            db.add(suggestion)
            db.add(StatusChange(suggestion_id=suggestion.id, status=Status.SUBMITTED.value, note="", reply=""))
            try:
                await db.commit()
            except IntegrityError:  # a concurrent repeat won the race: same answer as a repeat
                await db.rollback()
                again = await db.get(Suggestion, record["id"])
                if again is None:
                    raise
                return Accepted(False, again.reference)
            return Accepted(True, suggestion.reference)

    async def add_message(self, suggestion_id: str, key: str, kind: str, body: dict[str, Any]) -> bool:
        """Store a resident's message; False when this key was stored before."""
        if kind not in ("invitation_reply", "answer", "addition"):
            raise Invalid(f"unknown message kind {kind!r}")
        async with self.sessions() as db:
            if await db.get(Suggestion, suggestion_id) is None:
                raise NotFound(suggestion_id)
            if await db.get(ResidentMessage, key) is not None:
                return False
            db.add(ResidentMessage(key=key, suggestion_id=suggestion_id, kind=kind, body=body))
            try:
                await db.commit()
            except IntegrityError:
                await db.rollback()
                return False
            return True

    # ---- from staff ---------------------------------------------------------------------------

    async def set_status(self, suggestion_id: str, status: str, note: str = "", reply: str = "") -> None:
        try:
            target = Status(status)
        except ValueError:
            raise Invalid(f"unknown status {status!r}") from None
        async with self.sessions() as db:
            suggestion = await self._get(db, suggestion_id)
            current = Status(suggestion.status)
            if RANK[target] <= RANK[current] and not (current == target == Status.IN_PROGRESS):
                raise Invalid(f"cannot go from {current.value} to {target.value}")
            suggestion.status = target.value
            db.add(StatusChange(suggestion_id=suggestion_id, status=target.value, note=note, reply=reply))
            self._event(db, suggestion_id, "status_changed", {"status": target.value, "note": note, "reply": reply})
            await db.commit()

    async def invite(self, suggestion_id: str, when: str, where: str, contact: str) -> str:
        invitation_id = uuid.uuid4().hex[:12]
        async with self.sessions() as db:
            await self._get(db, suggestion_id)
            data = {"invitation_id": invitation_id, "when": when, "where": where, "contact": contact}
            self._event(db, suggestion_id, "invitation", data)
            await db.commit()
        return invitation_id

    async def ask(self, suggestion_id: str, text: str) -> str:
        question_id = uuid.uuid4().hex[:12]
        async with self.sessions() as db:
            await self._get(db, suggestion_id)
            self._event(db, suggestion_id, "question", {"question_id": question_id, "text": text})
            await db.commit()
        return question_id

    # ---- reading ------------------------------------------------------------------------------

    async def get(self, suggestion_id: str) -> dict[str, Any]:
        async with self.sessions() as db:
            suggestion = await self._get(db, suggestion_id)
            history = await db.scalars(
                select(StatusChange).where(StatusChange.suggestion_id == suggestion_id).order_by(StatusChange.id)
            )
            messages = await db.scalars(
                select(ResidentMessage)
                .where(ResidentMessage.suggestion_id == suggestion_id)
                .order_by(ResidentMessage.at)
            )
            return {
                **self._summary(suggestion),
                "record": suggestion.record,
                "history": [
                    {"status": h.status, "note": h.note, "reply": h.reply, "at": _iso(h.at)} for h in history
                ],
                "messages": [{"kind": m.kind, "body": m.body, "at": _iso(m.at)} for m in messages],
            }

    async def list(self, limit: int = 100, status: str | None = None, unit: str | None = None,
                   ) -> builtins.list[dict[str, Any]]:
        """Newest first; with `unit`, only the records that unit may see (routing.can_see)."""
        async with self.sessions() as db:
            query = select(Suggestion).order_by(Suggestion.created_at.desc(), Suggestion.id.desc())
            if status:
                query = query.where(Suggestion.status == status)
            if unit is not None and unit != self.routing.district_unit:
                query = query.where((Suggestion.unit == unit) | Suggestion.unit.like(f"{unit}/%"))
            return [self._summary(s) for s in await db.scalars(query.limit(limit))]

    async def rows(self, unit: str | None = None) -> builtins.list[dict[str, Any]]:
        """Every record (scoped to `unit`) with the fields analytics counts and its status
        history: channel, source point, campaign, category, street, unit, status, times."""
        async with self.sessions() as db:
            query = select(Suggestion).order_by(Suggestion.created_at)
            if unit is not None and unit != self.routing.district_unit:
                query = query.where((Suggestion.unit == unit) | Suggestion.unit.like(f"{unit}/%"))
            suggestions = list(await db.scalars(query))
            changes = await db.scalars(select(StatusChange).order_by(StatusChange.id))
            history: dict[str, builtins.list[dict[str, str]]] = {}
            for change in changes:
                history.setdefault(change.suggestion_id, []).append({"status": change.status, "at": _iso(change.at)})
            return [
                {
                    **self._summary(s),
                    "source": str(s.record.get("source", "")),
                    "source_name": str(s.record.get("source_name", "")),
                    "campaign": str(s.record.get("campaign", "")),
                    "history": history.get(s.id, []),
                }
                for s in suggestions
            ]

    async def count(self) -> int:
        async with self.sessions() as db:
            return int(await db.scalar(select(func.count()).select_from(Suggestion)) or 0)

    async def last_sequence(self, year: int) -> int:
        """The highest sequence number used in `year` (to seed a fresh id counter)."""
        async with self.sessions() as db:
            ids = await db.scalars(select(Suggestion.id).where(Suggestion.id.like(f"JA-{year}-%")))
            return max((int(i.rsplit("-", 1)[1]) for i in ids), default=0)

    # ---- events for the bot -------------------------------------------------------------------

    async def due_events(self, limit: int = 20) -> builtins.list[Event]:
        async with self.sessions() as db:
            query = (
                select(Event)
                .where(Event.delivered_at.is_(None), Event.next_attempt_at <= now())
                .order_by(Event.created_at)
                .limit(limit)
            )
            return list(await db.scalars(query))

    async def mark_event(self, event_id: str, delivered: bool, retry_in_s: float = 0) -> None:
        async with self.sessions() as db:
            event = await db.get(Event, event_id)
            if event is None:
                return
            event.attempts += 1
            if delivered:
                event.delivered_at = now()
            else:
                event.next_attempt_at = datetime.fromtimestamp(now().timestamp() + retry_in_s, UTC)
            await db.commit()

    @staticmethod
    def _event(db: AsyncSession, suggestion_id: str, kind: str, data: dict[str, Any]) -> None:
        db.add(Event(id=uuid.uuid4().hex, suggestion_id=suggestion_id, type=kind, data=data))

    @staticmethod
    async def _get(db: AsyncSession, suggestion_id: str) -> Suggestion:
        suggestion = await db.get(Suggestion, suggestion_id)
        if suggestion is None:
            raise NotFound(suggestion_id)
        return suggestion

    @staticmethod
    def _summary(s: Suggestion) -> dict[str, Any]:
        return {
            "id": s.id,
            "reference": s.reference,
            "status": s.status,
            "title": s.title,
            "category": s.category,
            "street": s.street,
            "unit": s.unit,
            "channel": s.channel,
            "created_at": _iso(s.created_at),
        }


def _iso(stamp: datetime) -> str:
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).isoformat()
