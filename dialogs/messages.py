"""Normalized inbound and outbound messages shared by every channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """One resident on one channel (the platform's own user id, never logged raw)."""

    channel: str
    user_id: str

    def render(self) -> str:
        return f"{self.channel}:{self.user_id}"

    @classmethod
    def parse(cls, raw: str) -> ConversationKey:
        channel, _, user_id = raw.partition(":")
        return cls(channel, user_id)


class AttachmentKind(StrEnum):
    IMAGE = "image"
    VOICE = "voice"
    LOCATION = "location"
    CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A platform file or shared item; `ref` is the platform's media/file id or a URL."""

    kind: AttachmentKind
    ref: str = ""
    mime: str = ""
    # location: latitude/longitude/label; contact: phone/name/own (bool)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "ref": self.ref, "mime": self.mime, "meta": dict(self.meta)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Attachment:
        return cls(AttachmentKind(raw["kind"]), raw.get("ref", ""), raw.get("mime", ""), dict(raw.get("meta", {})))


class EventKind(StrEnum):
    """Platform events and system events that enter through the same turn pipeline."""

    FOLLOW = "follow"  # subscribe / /start
    UNFOLLOW = "unfollow"
    SCAN = "scan"  # QR scene or deep link: data["scene"]
    MENU = "menu"  # platform menu click: data["key"]
    # System events (produced by the bot itself, the backend or staff).
    SUBMITTED = "submitted"  # data: id
    SUBMIT_FAILED = "submit_failed"
    STATUS_CHANGED = "status_changed"  # data: id, status, note, reply
    INVITATION = "invitation"  # 约请. data: id, invitation_id, when, where, contact
    QUESTION = "question"  # follow-up question. data: id, question_id, text
    STAFF_MESSAGE = "staff_message"  # data: text
    STAFF_RELEASED = "staff_released"


@dataclass(frozen=True, slots=True)
class PlatformEvent:
    kind: EventKind
    data: dict[str, Any] = field(default_factory=dict)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Inbound:
    """What a connector hands to the pipeline, whatever the platform."""

    key: ConversationKey
    message_id: str
    text: str = ""
    payload: str | None = None  # a pressed choice's payload
    attachments: tuple[Attachment, ...] = ()
    event: PlatformEvent | None = None
    language_hint: str | None = None  # "zh" / "en"
    received_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class Choice:
    title: str
    payload: str

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


class Hint(StrEnum):
    """What kind of answer the question expects; connectors may add a native control."""

    NONE = ""
    CONTACT = "contact"  # a "share my phone number" button fits
    LOCATION = "location"  # a "send location" button fits
    PHOTO = "photo"


@dataclass(frozen=True, slots=True)
class Outbound:
    text: str
    choices: tuple[Choice, ...] = ()
    image: str | None = None  # platform media id or URL
    hint: Hint = Hint.NONE
    # False when the text itself numbers other things (the summary's fields): text-only
    # channels then show no numbers for the choices, and digits mean what the text says.
    numbered: bool = True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "choices": [c.to_dict() for c in self.choices]}
        if self.image:
            out["image"] = self.image
        if self.hint:
            out["hint"] = self.hint.value
        if not self.numbered:
            out["numbered"] = False
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Outbound:
        return cls(
            text=raw["text"],
            choices=tuple(Choice(c["title"], c["payload"]) for c in raw.get("choices", [])),
            image=raw.get("image"),
            hint=Hint(raw.get("hint", "")),
            numbered=raw.get("numbered", True),
        )
