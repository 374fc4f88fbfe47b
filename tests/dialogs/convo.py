"""Drive the pure dialog engine message by message (no I/O), checking every state round-trips."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectors.render import numbered
from dialogs.effects import Effect
from dialogs.engine import Context, step
from dialogs.messages import Attachment, AttachmentKind, ConversationKey, EventKind, Inbound, PlatformEvent
from dialogs.state import ConversationState
from dialogs.understanding import Entity, Understanding

KEY = ConversationKey("test", "resident-1")


def streets(*names: str) -> Understanding:
    return Understanding(entities=tuple(Entity("street", n, 0, 2) for n in names))


@dataclass
class Convo:
    state: ConversationState = field(default_factory=ConversationState)
    ctx: Context = field(default_factory=Context)
    now: datetime = field(default_factory=lambda: datetime(2026, 5, 17, 9, 0, tzinfo=UTC))
    replies: list[str] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    count: int = 0

    def send(
        self,
        text: str = "",
        nlu: Understanding | None = None,
        payload: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        event: PlatformEvent | None = None,
        lang: str | None = None,
    ) -> str:
        self.count += 1
        if text.startswith("/"):  # as the connectors do: a pressed button's payload
            text, payload = "", text
        self.now += timedelta(seconds=20)
        inbound = Inbound(KEY, f"m{self.count}", text, payload, attachments, event, lang, self.now)
        result = step(self.state, inbound, nlu or Understanding(), self.ctx)
        # Everything must survive the JSON round trip Redis imposes.
        self.state = ConversationState.from_dict(result.state.to_dict())
        assert self.state == result.state
        self.effects.extend(result.effects)
        assert result.messages or result.effects, f"no answer to {text!r}"
        self.replies = [numbered(m) for m in result.messages]
        return "\n".join(self.replies)

    def photo(self, ref: str = "media-1") -> str:
        return self.send(attachments=(Attachment(AttachmentKind.IMAGE, ref),))

    def submitted(self, suggestion_id: str) -> str:
        return self.send(event=PlatformEvent(EventKind.SUBMITTED, {"id": suggestion_id}))

    @property
    def node(self) -> str:
        return self.state.node
