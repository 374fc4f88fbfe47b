"""The staff desk: what the console does to a case (claim, reply, release, close), with the
resident told through their own channel and every action written to the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING

from bot import logs
from bot.staff import transcript
from bot.staff.accounts import Accounts
from bot.staff.hours import zone
from bot.staff.intake import Intake
from bot.staff.notify import Notifier
from bot.staff.queue import CLOSED, RELEASED, Case, Cases
from bot.staff.sessions import Session, Sessions
from bot.staff.transcript import Transcripts
from bot.storage import ConversationStore
from dialogs import catalog
from dialogs.messages import ConversationKey, EventKind, Inbound, Outbound, PlatformEvent

if TYPE_CHECKING:
    from bot.outreach import Outreach

log = logs.get("minsheng.staff")

# Sends messages to a resident outside a reply (the durable push queue, e.g. Pipeline.push).
Deliver = Callable[[ConversationKey, list[Outbound]], Awaitable[None]]
# Runs a system event through the turn pipeline (Pipeline.handle) and returns its answer.
Handle = Callable[[Inbound], Awaitable[list[Outbound]]]

MAX_REPLY = 2000
MAX_NOTE = 1000


class NotHolder(Exception):
    """The case is not (or no longer) held by this staff member."""


@dataclass(slots=True)
class Desk:
    accounts: Accounts
    sessions: Sessions
    cases: Cases
    transcripts: Transcripts
    store: ConversationStore
    intake: Intake
    notifier: Notifier
    deliver: Deliver
    handle: Handle
    public_url: str = ""
    cookie_secure: bool = False
    tz: tzinfo = field(default_factory=lambda: zone("Asia/Shanghai"))  # times shown to staff
    outreach: Outreach | None = None  # campaigns, points and records (bot/outreach.py; set by bootstrap)

    async def lang(self, key: ConversationKey) -> str:
        return (await self.store.load(key)).state.lang

    async def tell(self, key: ConversationKey, text_key: str, extra: list[Outbound] | None = None,
                   **values: object) -> None:
        lang = await self.lang(key)
        messages = [Outbound(catalog.text(lang, text_key, **values)), *(extra or [])]
        await self.transcripts.append(key, transcript.line("bot", transcript.bot_text(messages)))
        await self.deliver(key, messages)

    async def claim(self, case: Case, me: Session) -> bool:
        won, holder = await self.cases.claim(case, me.username, me.unit)
        await self.cases.audit(me.username, "claim" if won else "claim_lost", case.id, "" if won else holder)
        if won:
            log.info("case claimed", case=case.id, staff=me.username)
            await self.tell(case.conversation, "staff_joined", unit=me.unit)
        return won

    async def reply(self, case: Case, me: Session, text: str) -> None:
        current = await self.cases.get(case.id)
        if current is None or current.status != "held" or current.holder != me.username:
            raise NotHolder(case.id)
        lang = await self.lang(case.conversation)
        await self.transcripts.append(case.conversation, transcript.line("staff", text, staff=me.name))
        await self.deliver(case.conversation, [Outbound(catalog.text(lang, "staff_says", text=text))])
        await self.cases.audit(me.username, "reply", case.id, f"{len(text)} chars")

    async def release(self, case: Case, me: Session) -> None:
        """Back to the bot: the dialog state was never touched, so the form resumes where it was."""
        if not await self.cases.end(case, me.username, RELEASED):
            raise NotHolder(case.id)
        await self.cases.audit(me.username, "release", case.id)
        event = Inbound(case.conversation, f"staff:{case.id}:released", event=PlatformEvent(EventKind.STAFF_RELEASED))
        await self.tell(case.conversation, "staff_released", extra=await self.handle(event))

    async def close(self, case: Case, me: Session, note: str) -> None:
        if not await self.cases.end(case, me.username, CLOSED, note):
            raise NotHolder(case.id)
        await self.cases.audit(me.username, "close", case.id, f"note {len(note)} chars")
        await self.tell(case.conversation, "staff_closed")
