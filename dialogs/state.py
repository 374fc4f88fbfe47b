"""Conversation state: plain data that survives a JSON round trip (Redis stores it as JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


def _plain(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, copying the lists and dicts it holds.

    Faster than dataclasses.asdict (no generic deep copy): this runs twice per turn.
    """
    out: dict[str, Any] = {}
    for name in obj.__slots__:
        value = getattr(obj, name)
        if isinstance(value, list):
            value = [dict(v) if isinstance(v, dict) else v for v in value]
        out[name] = value
    return out


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
    coached: list[str] = field(default_factory=list)  # fields the writing coach already commented on
    campaign: str = ""  # the themed campaign this suggestion answers (dialogs.campaigns)
    answers: list[str] = field(default_factory=list)  # answers to the campaign's guiding questions


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
    # Nodes to come back to after an interruption that needs answers of its own (an invitation,
    # a follow-up question, a call-back, a private complaint): a stack, innermost last.
    paused: list[str] = field(default_factory=list)
    # Invitations and follow-up questions from the backend waiting for the resident's answer:
    # {"kind": "invitation", "id", "invitation_id", "when", "where", "contact"} or
    # {"kind": "question", "id", "question_id", "text"}; the first one is being asked.
    pending: list[dict[str, str]] = field(default_factory=list)
    last_seen: str = ""  # ISO time of the resident's last message (to greet a returning resident)
    offer: str = ""  # what the bot proposed and waits to have confirmed (a category key)
    held: str = ""  # the resident's text kept while they choose what to do with it
    review: int = 0  # elderly mode: the summary field being read back
    page: int = 0  # elderly mode: the page of a long numbered list

    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        data["draft"] = _plain(self.draft) if self.draft is not None else None
        data["mine"] = [{**_plain(m), "history": [dict(h) for h in m.history]} for m in self.mine]
        return data

    def clone(self) -> ConversationState:
        return ConversationState.from_dict(self.to_dict())

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ConversationState:
        data = {f.name: raw[f.name] for f in fields(cls) if f.name in raw}
        if data.get("draft"):
            draft = data["draft"]
            data["draft"] = Draft(**{f.name: draft[f.name] for f in fields(Draft) if f.name in draft})
        data["mine"] = [Mine(**m) for m in data.get("mine", [])]
        return cls(**data)
