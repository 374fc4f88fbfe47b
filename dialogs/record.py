"""The suggestion record the backend receives, and its status flow."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    FORWARDED = "forwarded"
    IN_PROGRESS = "in_progress"
    ADOPTED = "adopted"
    PARTIALLY_ADOPTED = "partially_adopted"
    FOR_REFERENCE = "for_reference"
    NOT_ADOPTED = "not_adopted"
    REPLIED = "replied"
    CLOSED = "closed"


@dataclass(slots=True)
class Contact:
    name: str = ""
    anonymous: bool = True
    phone: str = ""
    accepts_invitation: bool = False


@dataclass(slots=True)
class StatusChange:
    status: Status
    at: str  # ISO 8601, UTC
    note: str = ""


@dataclass(slots=True)
class SuggestionRecord:
    """A finalized suggestion. `id` is assigned when it is made durable (JA-<year>-<6 digits>)."""

    channel: str
    resident_ref: str  # opaque, never the raw platform id
    language: str
    category: str
    category_standard: str | None
    title: str
    street: str  # one of dialogs.places.STREETS or DISTRICT_WIDE
    location_detail: str
    problem: str
    proposal: str
    expected_effect: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    contact: Contact = field(default_factory=Contact)
    privacy_consent: bool = False
    source: str = ""  # collection point / QR scene / menu / campaign entry
    campaign: str = ""
    source_name: str = ""  # the collection point's name, when `source` is a known point
    created_at: str = ""
    submitted_at: str = ""
    draft_id: str = ""
    id: str = ""
    status_history: list[StatusChange] = field(default_factory=list)
    # The conversation with staff, when it was escalated before submitting: {who, text, at[, staff]}.
    transcript: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SuggestionRecord:
        data = dict(raw)
        data["contact"] = Contact(**data.get("contact", {}))
        data["status_history"] = [
            StatusChange(Status(h["status"]), h["at"], h.get("note", "")) for h in data.get("status_history", [])
        ]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def format_id(year: int, seq: int) -> str:
    return f"JA-{year}-{seq:06d}"
