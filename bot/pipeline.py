"""The turn pipeline: every inbound message, whatever its source, takes this one path.

inbound → understand → per-conversation lock → load → duplicate? answer again → dialog step →
carry out effects that return a result (submission) → save state and queue the other effects
atomically → answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot import logs, metrics
from bot.backend import Backend
from bot.storage import ConversationStore, Envelope, Queued
from dialogs.effects import Escalate, SubmitSuggestion
from dialogs.engine import Context, StepResult, step
from dialogs.messages import ConversationKey, EventKind, Inbound, Outbound, PlatformEvent
from dialogs.understanding import NOTHING, Understander

log = logs.get("minsheng.pipeline")

ESCALATION_STREAM = "ms:escalations"


@dataclass(frozen=True, slots=True)
class Turn:
    """A turn's answer; `duplicate` marks a re-delivered message answered from the record."""

    messages: list[Outbound]
    duplicate: bool = False


@dataclass(slots=True)
class Pipeline:
    store: ConversationStore
    understander: Understander
    backend: Backend
    secret: str
    context: Callable[[], Context] = Context
    keep_answers: int = 8

    def ref(self, key: ConversationKey) -> str:
        return logs.resident_ref(self.secret, key)

    async def handle(self, inbound: Inbound) -> Turn:
        started = time.perf_counter()
        # Everything, understanding included, runs under the lock: the turn order of one
        # resident is the order their messages arrived in, whatever the NLU's latency.
        async with self.store.turn(inbound.key) as lease:
            envelope = lease.envelope
            cached = envelope.answer_to(inbound.message_id)
            if cached is not None:
                metrics.DUPLICATES.labels(inbound.key.channel).inc()
                log.info("duplicate", ref=self.ref(inbound.key), channel=inbound.key.channel)
                return Turn(cached, duplicate=True)
            understanding = NOTHING
            if inbound.text.strip() and inbound.payload is None:
                understanding = await self.understander.parse(inbound.text, envelope.state.lang)
            result = step(envelope.state, inbound, understanding, self.context())
            result, queued = await self._carry_out(inbound, result)
            envelope.state = result.state
            envelope.remember(inbound.message_id, result.messages, self.keep_answers)
            await lease.save(queued)
        metrics.TURNS.labels(inbound.key.channel).inc()
        metrics.TURN_SECONDS.observe(time.perf_counter() - started)
        log.debug("turn", ref=self.ref(inbound.key), node=result.state.node, intent=understanding.intent)
        return Turn(result.messages)

    async def _carry_out(self, inbound: Inbound, result: StepResult) -> tuple[StepResult, list[Queued]]:
        """Submissions run now (their id goes into the receipt); escalations are queued."""
        queued: list[Queued] = []
        messages = list(result.messages)
        state = result.state
        ctx = self.context()
        for effect in result.effects:
            if isinstance(effect, SubmitSuggestion):
                record = replace(effect.record, resident_ref=self.ref(inbound.key))
                try:
                    suggestion_id = await self.backend.submit(record)
                except Exception:
                    metrics.SUBMISSIONS.labels("failed").inc()
                    log.exception("submit failed", ref=record.resident_ref)
                    event = PlatformEvent(EventKind.SUBMIT_FAILED)
                else:
                    metrics.SUBMISSIONS.labels("ok").inc()
                    log.info("submitted", ref=record.resident_ref, id=suggestion_id)
                    event = PlatformEvent(EventKind.SUBMITTED, {"id": suggestion_id})
                follow = step(state, replace(inbound, text="", payload=None, attachments=(), event=event), NOTHING, ctx)
                state = follow.state
                messages.extend(follow.messages)
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
