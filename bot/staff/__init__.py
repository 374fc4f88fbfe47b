"""Staff escalation and the staff console (issue 8).

`build_desk()` wires the parts from the settings: accounts (accounts.py), sessions and cross-site
checks (sessions.py), escalation cases and claims (queue.py, fed by intake.py from the pipeline's
`ms:escalations` stream), transcripts (transcript.py), the pipeline's gate (handoff.py),
notifications (notify.py) and the console's routes (console.py, mounted under /staff).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from redis.asyncio import Redis

from bot.delivery import pushes
from bot.staff.accounts import Accounts
from bot.staff.desk import Deliver, Desk
from bot.staff.handoff import Gate, parse_words
from bot.staff.hours import OfficeHours
from bot.staff.intake import Intake
from bot.staff.notify import Notifier
from bot.staff.queue import Cases
from bot.staff.sessions import Sessions
from bot.staff.transcript import Transcripts
from dialogs.messages import ConversationKey, Inbound, Outbound

if TYPE_CHECKING:
    from bot.pipeline import Pipeline
    from bot.settings import Settings

__all__ = ["Desk", "Gate", "build_desk", "push_via_queue"]


def push_via_queue(redis: Redis) -> Deliver:
    """Staff messages go out like every push: an entry on the channel's durable push stream."""

    async def deliver(key: ConversationKey, messages: list[Outbound]) -> None:
        entry = pushes.push(key, messages)
        await redis.xadd(entry.stream, entry.fields)  # type: ignore[arg-type]

    return deliver


def build_desk(settings: Settings, pipeline: Pipeline, deliver: Deliver, stream: str) -> tuple[Desk, Gate]:
    redis, store = pipeline.store.redis, pipeline.store
    cases = Cases(redis)
    gate = Gate(redis, cases, OfficeHours.parse(settings.staff_office_hours, settings.staff_timezone), stream,
                store.ttl_s, parse_words(settings.staff_sensitive_words))
    public = settings.staff_public_url or f"http://{settings.host}:{settings.port}"
    notifier = Notifier(public, settings.telegram_api_base,
                        settings.staff_telegram_bot_token or settings.telegram_bot_token or "",
                        settings.staff_telegram_chat_id, settings.staff_wecom_webhook)

    async def handle(inbound: Inbound) -> list[Outbound]:
        return (await pipeline.handle(inbound)).messages

    desk = Desk(
        accounts=Accounts(settings.data_dir / "staff-accounts.json"),
        sessions=Sessions(redis, int(settings.staff_session_hours * 3600)),
        cases=cases, transcripts=Transcripts(redis, store.ttl_s), store=store,
        intake=Intake(redis, stream, cases, notifier), notifier=notifier, deliver=deliver, handle=handle,
        public_url=settings.staff_public_url, cookie_secure=settings.staff_cookie_secure, tz=gate.hours.tz,
    )
    gate.transcripts = desk.transcripts
    return desk, gate
