"""Conversation state: plain data that survives a JSON round trip (Redis stores it as JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(slots=True)
class Draft:
    draft_id: str
    started_at: str
    updated_at: str = ""
    category: str = ""
    street: str = ""
    location_detail: str = ""
    title: str = ""
    problem: str = ""
    proposal: str = ""
    effect: str = ""
    photos: list[dict[str, Any]] = field(default_factory=list)
    name: str = ""
    anonymous: bool = False
    phone: str = ""
    accepts_invite: bool = False
    consent: bool = False
    node: str = "category"  # where the resident was, for resuming


@dataclass(slots=True)
class Mine:
    """One of the resident's submitted suggestions, kept for "我的建议"."""

    id: str
    title: str
    status: str
    history: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class ConversationState:
    lang: str = "zh"
    node: str = "start"
    back: list[str] = field(default_factory=list)
    editing: bool = False
    draft: Draft | None = None
    candidates: list[str] = field(default_factory=list)  # pending street choices
    return_to: str = ""  # node to go back to when a cancel is declined
    failures: int = 0
    elderly: bool = False
    source: str = ""  # collection point / scene the resident came from
    mine: list[Mine] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ConversationState:
        data = {f.name: raw[f.name] for f in fields(cls) if f.name in raw}
        if data.get("draft"):
            draft = data["draft"]
            data["draft"] = Draft(**{f.name: draft[f.name] for f in fields(Draft) if f.name in draft})
        data["mine"] = [Mine(**m) for m in data.get("mine", [])]
        return cls(**data)
