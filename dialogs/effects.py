"""What a dialog step asks the outside world to do; the pipeline carries these out."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.record import SuggestionRecord


@dataclass(frozen=True, slots=True)
class SubmitSuggestion:
    """Make the record durable and hand it to the backend; the result comes back as an event."""

    record: SuggestionRecord


@dataclass(frozen=True, slots=True)
class Escalate:
    """Hand the conversation to staff."""

    reason: str  # "asked", "callback", "emergency", "not_understood", "sensitive"
    urgent: bool = False
    phone: str = ""
    street: str = ""


@dataclass(frozen=True, slots=True)
class SendToBackend:
    """A resident's message about a submitted suggestion: an invitation reply, the answer to a
    follow-up question, or a later addition (text and/or photos)."""

    suggestion_id: str
    kind: str  # "invitation_reply" | "answer" | "addition"
    body: dict[str, object]


Effect = SubmitSuggestion | Escalate | SendToBackend
