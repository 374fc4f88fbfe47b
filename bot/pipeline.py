"""The turn pipeline: every inbound message, whatever its source, takes this one path.

inbound → per-conversation lock → load → duplicate? answer again → understand → dialog step →
effects become queued writes (the record and its outbox entry, escalations, pushes) → save
state and queued writes atomically → answer.

A resident's message is answered in the reply; a system message (a backend event, a staff
reply) is answered by a push queued in the same transaction.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from bot import logs, metrics
from bot.delivery import outbox, pushes
from bot.storage import ConversationStore, Envelope, Queued
from dialogs.effects import Escalate, SendToBackend, SubmitSuggestion
from dialogs.engine import Context, StepResult, step
from dialogs.messages import ConversationKey, EventKind, Inbound, Outbound, PlatformEvent
from dialogs.record import format_id
from dialogs.understanding import NOTHING, Understander

if TYPE_CHECKING:
    from bot.staff.handoff import Gate

log = logs.get("minsheng.pipeline")

ESCALATION_STREAM = "ms:escalations"


@dataclass(frozen=True, slots=True)
class Turn:
    """A turn's answer; `duplicate` marks a re-delivered message answered from the record."""

    messages: list[Outbound]
    duplicate: bool = False


class SuggestionIds:
    """JA-<year>-<6 digits>, sequential per year, from a Redis counter."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def next(self, year: int) -> str:
        return format_id(year, int(await self.redis.incr(f"ms:seq:{year}")))

    async def at_least(self, year: int, used: int) -> None:
        """Never hand out a number the backend already has (a fresh or embedded Redis)."""
        key = f"ms:seq:{year}"
        current = int(await self.redis.get(key) or 0)
        if current < used:
            await self.redis.set(key, used)


@dataclass(slots=True)
class Pipeline:
    store: ConversationStore
    understander: Understander
    ids: SuggestionIds
    secret: str
    context: Callable[[], Context] = Context
    keep_answers: int = 8
    staff: Gate | None = None  # bot/staff: holds, transcripts, sensitive words (set by bootstrap)
    # Adds campaigns and collection points to `context()` for the turn (bot.outreach.Outreach.context).
    contexts: Callable[[Context], Awaitable[Context]] | None = None

    def ref(self, key: ConversationKey) -> str:
        return logs.resident_ref(self.secret, key)

    async def handle(self, inbound: Inbound, push: bool = False) -> Turn:
        """One turn. With `push`, the answer is also queued for the resident's channel."""
        started = time.perf_counter()
        # Everything, understanding included, runs under the lock: the turn order of one
        # resident is the order their messages arrived in, whatever the NLU's latency.
        peek = self.staff.peek_keys(inbound.key) if self.staff is not None else ()
        async with self.store.turn(inbound.key, peek) as lease:
            envelope = lease.envelope
            cached = envelope.answer_to(inbound.message_id)
            if cached is not None:
                metrics.DUPLICATES.labels(inbound.key.channel).inc()
                log.info("duplicate", ref=self.ref(inbound.key), channel=inbound.key.channel)
                return Turn(cached, duplicate=True)
            screen = None
            if self.staff is not None:  # staff holding it: the message is relayed, the bot stays silent
                screen = await self.staff.screen(inbound, self.ref(inbound.key), envelope.state.lang, lease.peeked)
                if screen.answer is not None:
                    return Turn(screen.answer)
            understanding = NOTHING
            if inbound.text.strip() and inbound.payload is None:
                understanding = await self.understander.parse(inbound.text, envelope.state.lang)
            ctx = self.context()
            if self.contexts is not None:
                ctx = await self.contexts(ctx)
            result = step(envelope.state, inbound, understanding, ctx)
            result, queued = await self._carry_out(inbound, result, ctx)
            if screen is not None:  # transcript lines (saved with the state), sensitive words
                result, queued = screen.after(result, queued)
            if push and result.messages:
                queued.append(pushes.push(inbound.key, result.messages))
            envelope.state = result.state
            envelope.remember(inbound.message_id, result.messages, self.keep_answers)
            await lease.save(queued)
        metrics.TURNS.labels(inbound.key.channel).inc()
        metrics.TURN_SECONDS.observe(time.perf_counter() - started)
        log.debug("turn", ref=self.ref(inbound.key), node=result.state.node, intent=understanding.intent)
        return Turn(result.messages)

    async def _carry_out(self, inbound: Inbound, result: StepResult,
                         ctx: Context | None = None) -> tuple[StepResult, list[Queued]]:
        """Turn effects into writes saved with the state; a submission's id goes into the receipt."""
        queued: list[Queued] = []
        messages = list(result.messages)
        state = result.state
        for effect in result.effects:
            if isinstance(effect, SubmitSuggestion):
                year = datetime.fromisoformat(effect.record.submitted_at).year
                suggestion_id = await self.ids.next(year)
                record = replace(effect.record, id=suggestion_id, resident_ref=self.ref(inbound.key))
                if self.staff is not None and self.staff.transcripts is not None:
                    # A conversation with staff before submitting goes onto the record.
                    record.transcript = await self.staff.transcripts.for_submission(inbound.key) or []
                queued += outbox.submission(record, inbound.key.render())
                metrics.SUBMISSIONS.labels("queued").inc()
                log.info("submitted", ref=record.resident_ref, id=suggestion_id)
                event = PlatformEvent(EventKind.SUBMITTED, {"id": suggestion_id})
                system = replace(inbound, text="", payload=None, attachments=(), event=event)
                follow = step(state, system, NOTHING, ctx or self.context())
                state = follow.state
                messages.extend(follow.messages)
            elif isinstance(effect, SendToBackend):
                queued.append(outbox.resident_message(effect.suggestion_id, effect.kind, effect.body))
            elif isinstance(effect, Escalate):
                metrics.ESCALATIONS.labels(effect.reason).inc()
                fields = {
                    "ref": self.ref(inbound.key),
                    "conversation": inbound.key.render(),
                    "reason": effect.reason,
                    "urgent": "1" if effect.urgent else "0",
                    "street": effect.street,
                    "phone": effect.phone,
                    "at": datetime.now(UTC).isoformat(),
                }
                queued.append(Queued(ESCALATION_STREAM, fields))
                log.info("escalated", ref=fields["ref"], reason=effect.reason, urgent=effect.urgent)
        return StepResult(state, messages, []), queued

    async def snapshot(self, key: ConversationKey) -> Envelope:
        """The stored envelope (for tools and tests)."""
        return await self.store.load(key)
