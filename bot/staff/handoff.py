"""The pipeline's gate to staff. Two hooks, both inside the conversation's lock:

- `screen()` at the start of a turn (one Redis round trip, a Lua script): when staff hold the
  conversation, the resident's message goes to the transcript and the console, and the bot says
  nothing and saves nothing ("结束人工" hands it back). Otherwise it keeps the transcript's TTL.
- `Screen.after()` after a normal turn (no I/O): sensitive words escalate, an escalation outside
  office hours says when a person will answer, and the turn's lines are queued for the
  transcript, so they are written by the pipeline's own save, atomically with the state.
The dialog engine knows nothing of this.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis.asyncio import Redis

from bot import logs, metrics
from bot.staff import transcript
from bot.staff.hours import OfficeHours, utcnow
from bot.staff.queue import CASE_OF, EVENTS, HOLD, RELEASED, Cases
from bot.staff.transcript import Transcripts
from bot.storage import Queued
from dialogs import catalog
from dialogs.engine import StepResult
from dialogs.messages import ConversationKey, EventKind, Inbound, Outbound

log = logs.get("minsheng.staff.handoff")

# What a resident types to end the human session (compared after catalog.normalize()).
END_WORDS = frozenset({"结束人工", "退出人工", "结束人工服务", "end human", "stop human", "/end_human"})
# Platform events a resident causes; system events (backend status, submissions) pass the gate.
RESIDENT_EVENTS = frozenset({EventKind.FOLLOW, EventKind.SCAN, EventKind.MENU})
_SPLIT = re.compile(r"[,,、;;\n]+")

# KEYS: hold, transcript, case-of, events, seen message. ARGV: ttl, text, at, maxlen.
# Returns {0, case open?} when nobody holds the conversation, else {1, "<case>|<user>"}.
_SCREEN = """
local hold = redis.call('GET', KEYS[1])
if not hold then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    redis.call('XADD', KEYS[2], '*', 'who', 'start', 'text', '', 'at', ARGV[3])
  else
    redis.call('XTRIM', KEYS[2], 'MAXLEN', '~', ARGV[4])
  end
  redis.call('EXPIRE', KEYS[2], ARGV[1])
  return {0, redis.call('EXISTS', KEYS[3])}
end
if redis.call('SET', KEYS[5], '1', 'NX', 'EX', 86400) then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'who', 'resident', 'text', ARGV[2], 'at', ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', 1000, '*', 'kind', 'message', 'case', string.match(hold, '^[^|]*'))
end
return {1, hold}
"""


def parse_words(raw: str) -> tuple[str, ...]:
    return tuple(w for w in (catalog.normalize(p) for p in _SPLIT.split(raw)) if w)


def resident_text(inbound: Inbound) -> str:
    """What the resident sent, as one transcript line."""
    parts = [inbound.text.strip()] if inbound.text.strip() else []
    if inbound.payload:
        parts.append(f"[{inbound.payload}]")
    parts.extend(f"[{a.kind.value}]" for a in inbound.attachments)
    if inbound.event is not None and not parts:
        parts.append(f"[{inbound.event.kind.value}]")
    return " ".join(parts)


def when_open(hours: OfficeHours, lang: str, now: datetime) -> str:
    """'明天 09:00' / 'Monday 09:00': when a person will next be at the office."""
    start, today = hours.next_open(now), now.astimezone(hours.tz).date()
    if start.date() == today:
        day = catalog.text(lang, "staff_today")
    elif start.date() == today + timedelta(days=1):
        day = catalog.text(lang, "staff_tomorrow")
    else:
        day = catalog.text(lang, "staff_weekdays").split()[start.weekday()]
    return f"{day} {start:%H:%M}"


@dataclass(slots=True)
class Gate:
    redis: Redis
    cases: Cases
    hours: OfficeHours
    escalation_stream: str
    ttl_s: int
    sensitive_words: tuple[str, ...] = ()
    now: Callable[[], datetime] = utcnow
    transcripts: Transcripts | None = None  # to attach a staff conversation to a submitted record
    _script: object = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._script = self.redis.register_script(_SCREEN)

    def peek_keys(self, key: ConversationKey) -> tuple[str, str]:
        """Keys the pipeline reads with the conversation's lock: who holds it, its open case."""
        conv = key.render()
        return HOLD + conv, CASE_OF + conv

    async def screen(
        self, inbound: Inbound, ref: str, lang: str, peeked: tuple[bytes | None, ...] = ()
    ) -> Screen:
        if inbound.event is not None and inbound.event.kind not in RESIDENT_EVENTS:
            return Screen(self, inbound, ref, lang)
        if len(peeked) == 2 and peeked[0] is None:
            # Nobody holds it (read with the lock): no round trip of our own; the transcript
            # lines are saved with the state (Screen.after).
            return Screen(self, inbound, ref, lang, case_open=peeked[1] is not None)
        conv = inbound.key.render()
        keys = [HOLD + conv, transcript.stream_key(inbound.key), CASE_OF + conv, EVENTS,
                f"ms:staff:seen:{inbound.message_id}"]
        args = [self.ttl_s, resident_text(inbound), transcript.now_iso(), transcript.MAXLEN]
        held, value = await self._script(keys=keys, args=args)  # type: ignore[operator]
        if not int(held):
            return Screen(self, inbound, ref, lang, case_open=bool(int(value)))
        case_id, _, _ = (value.decode() if isinstance(value, bytes) else str(value)).partition("|")
        answer: list[Outbound] = []
        if catalog.normalize(inbound.text) in END_WORDS:
            case = await self.cases.get(case_id)
            if case is not None and await self.cases.end(case, "", RELEASED, "resident ended"):
                await self.cases.audit("resident", "ended", case_id)
            answer = [Outbound(catalog.text(lang, "staff_ended"))]
        log.info("relayed to staff", ref=ref, case=case_id)
        return Screen(self, inbound, ref, lang, answer=answer)

    def sensitive(self, text: str) -> bool:
        norm = catalog.normalize(text)
        return bool(norm) and any(w in norm for w in self.sensitive_words)


@dataclass(slots=True)
class Screen:
    """The gate's verdict on one turn."""

    gate: Gate
    inbound: Inbound
    ref: str
    lang: str
    case_open: bool = False
    answer: list[Outbound] | None = None  # not None: staff hold the conversation, this is the answer

    def after(self, result: StepResult, queued: list[Queued]) -> tuple[StepResult, list[Queued]]:
        gate, inbound, lang = self.gate, self.inbound, result.state.lang
        messages, queued = list(result.messages), list(queued)
        reasons = [q.fields.get("reason", "") for q in queued if q.stream == gate.escalation_stream]
        if not reasons and not self.case_open and gate.sensitive(inbound.text):
            draft = result.state.draft
            queued.append(Queued(gate.escalation_stream, {
                "ref": self.ref, "conversation": inbound.key.render(), "reason": "sensitive", "urgent": "0",
                "street": draft.street if draft else "", "phone": "", "at": gate.now().isoformat(),
            }))
            metrics.ESCALATIONS.labels("sensitive").inc()
            log.info("escalated", ref=self.ref, reason="sensitive", urgent=False)
            reasons.append("sensitive")
            messages.append(Outbound(catalog.text(lang, "staff_sensitive")))
        now = gate.now()
        if reasons and not gate.hours.is_open(now):
            messages.append(Outbound(catalog.text(lang, "staff_after_hours", when=when_open(gate.hours, lang, now))))
        stream = transcript.stream_key(inbound.key)
        at = transcript.now_iso()
        said = resident_text(inbound)
        lines = [transcript.line("resident", said, at)] if said else []
        lines += [transcript.line("system", f"{transcript.ESCALATED}:{r}", at) for r in reasons]
        if messages:
            lines.append(transcript.line("bot", transcript.bot_text(messages), at))
        # Capped, and kept as long as the conversation's state.
        queued.extend(Queued(stream, entry, maxlen=transcript.MAXLEN, ttl_s=gate.ttl_s) for entry in lines)
        return StepResult(result.state, messages, result.effects), queued
