"""Escalation cases: opened from the `ms:escalations` stream, queued (urgent first, then the
longest waiting), claimed by one staff member at a time, released to the bot or closed.

Redis keys (the raw conversation key appears only inside key names and the case hash, like the
state's own key; pages and logs use the case id and the opaque resident ref):
  ms:staff:case:<id>        hash: the case
  ms:staff:queue            zset of open case ids (score: urgent first, then the oldest)
  ms:staff:case-of:<conv>   the conversation's open case id
  ms:staff:hold:<conv>      "<case id>|<username>" while staff hold it: the pipeline's gate reads it
  ms:staff:events           stream of queue changes, followed by the console
  ms:staff:audit            stream of staff actions
Transitions are Lua scripts, so two staff members claiming at once cannot both win.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from bot.staff import rstream
from dialogs.messages import ConversationKey

CASE = "ms:staff:case:"
QUEUE = "ms:staff:queue"
CASE_OF = "ms:staff:case-of:"
HOLD = "ms:staff:hold:"
EVENTS = "ms:staff:events"
AUDIT = "ms:staff:audit"
SEQ = "ms:staff:seq"
ENTRY = "ms:staff:entry:"  # an escalation stream entry already turned into a case
EVENTS_MAXLEN = 1000
AUDIT_MAXLEN = 100_000
CLOSED_TTL_S = 90 * 86400  # closed cases stay readable for the audit this long

WAITING, HELD, RELEASED, CLOSED = "waiting", "held", "released", "closed"

# KEYS: case-of, seq, queue, events, entry mark. ARGV: prefix, entry fields (JSON), epoch seconds.
# Returns {code, id}: 0 already done, 1 new case, 2 added to the open case, 3 ...and it became urgent.
_OPEN = """
if not redis.call('SET', KEYS[5], '1', 'NX', 'EX', 604800) then return {0, ''} end
local f = cjson.decode(ARGV[2])
local urgent = f['urgent'] == '1'
local id = redis.call('GET', KEYS[1])
if id then
  local key = ARGV[1] .. id
  local reasons = redis.call('HGET', key, 'reasons') or ''
  if not string.find(',' .. reasons .. ',', ',' .. f['reason'] .. ',', 1, true) then
    redis.call('HSET', key, 'reasons', reasons .. ',' .. f['reason'])
  end
  if f['phone'] ~= '' then redis.call('HSET', key, 'phone', f['phone']) end
  if f['street'] ~= '' then redis.call('HSET', key, 'street', f['street']) end
  local code = 2
  if urgent and redis.call('HGET', key, 'urgent') ~= '1' then
    redis.call('HSET', key, 'urgent', '1')
    redis.call('ZADD', KEYS[3], tonumber(redis.call('HGET', key, 'epoch')), id)
    code = 3
  end
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', 1000, '*', 'kind', 'case', 'case', id)
  return {code, id}
end
id = string.format('E-%06d', redis.call('INCR', KEYS[2]))
local key = ARGV[1] .. id
local channel = string.match(f['conversation'], '^([^:]*)') or ''
redis.call('HSET', key, 'id', id, 'ref', f['ref'], 'conversation', f['conversation'], 'channel', channel,
  'reasons', f['reason'], 'urgent', urgent and '1' or '0', 'street', f['street'], 'phone', f['phone'],
  'created_at', f['at'], 'epoch', ARGV[3], 'status', 'waiting')
redis.call('SET', KEYS[1], id)
local score = tonumber(ARGV[3])
if not urgent then score = score + 10000000000 end
redis.call('ZADD', KEYS[3], score, id)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', 1000, '*', 'kind', 'case', 'case', id)
return {1, id}
"""

# KEYS: case, hold, events. ARGV: username, unit, now, case id. Returns {won, holder}.
_CLAIM = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'waiting' then return {0, redis.call('HGET', KEYS[1], 'holder') or ''} end
redis.call('HSET', KEYS[1], 'status', 'held', 'holder', ARGV[1], 'holder_unit', ARGV[2], 'claimed_at', ARGV[3])
redis.call('SET', KEYS[2], ARGV[4] .. '|' .. ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000, '*', 'kind', 'case', 'case', ARGV[4])
return {1, ARGV[1]}
"""

# KEYS: case, hold, case-of, queue, events. ARGV: username ('' = the resident), new status, now,
# note, case id, ttl. Only the holder ends a held case; the resident ends whatever holds theirs.
_END = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'held' and status ~= 'waiting' then return 0 end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'holder') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'ended_at', ARGV[3], 'ended_by', ARGV[1], 'note', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[6])
local hold = redis.call('GET', KEYS[2])
if hold and string.sub(hold, 1, #ARGV[5] + 1) == ARGV[5] .. '|' then redis.call('DEL', KEYS[2]) end
if redis.call('GET', KEYS[3]) == ARGV[5] then redis.call('DEL', KEYS[3]) end
redis.call('ZREM', KEYS[4], ARGV[5])
redis.call('XADD', KEYS[5], 'MAXLEN', '~', 1000, '*', 'kind', 'case', 'case', ARGV[5])
return 1
"""


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    ref: str
    conversation: ConversationKey  # personal: used server-side only, never rendered or logged
    channel: str
    reasons: tuple[str, ...]
    urgent: bool
    street: str
    phone: str  # personal: shown only to the holder
    created_at: str
    status: str
    holder: str = ""
    holder_unit: str = ""
    note: str = ""

    @classmethod
    def from_hash(cls, raw: dict[Any, Any]) -> Case:
        h = {_s(k): _s(v) for k, v in raw.items()}
        return cls(
            id=h["id"], ref=h.get("ref", ""), conversation=ConversationKey.parse(h.get("conversation", ":")),
            channel=h.get("channel", ""), reasons=tuple(r for r in h.get("reasons", "").split(",") if r),
            urgent=h.get("urgent") == "1", street=h.get("street", ""), phone=h.get("phone", ""),
            created_at=h.get("created_at", ""), status=h.get("status", ""), holder=h.get("holder", ""),
            holder_unit=h.get("holder_unit", ""), note=h.get("note", ""),
        )

    @property
    def callback(self) -> bool:
        return "callback" in self.reasons

    def waiting_s(self, now: datetime) -> float:
        try:
            return max(0.0, (now - datetime.fromisoformat(self.created_at)).total_seconds())
        except ValueError:
            return 0.0


@dataclass(frozen=True, slots=True)
class Opened:
    code: int  # 0 duplicate entry, 1 new case, 2 merged into the open case, 3 merged and now urgent
    case_id: str


class Cases:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._open = redis.register_script(_OPEN)
        self._claim = redis.register_script(_CLAIM)
        self._end = redis.register_script(_END)

    async def open(self, entry_id: str, fields: dict[str, str]) -> Opened:
        """Turn one `ms:escalations` entry into a case (idempotent per entry)."""
        conversation = fields.get("conversation", "")
        epoch = _epoch(fields.get("at", ""))
        keys = [CASE_OF + conversation, SEQ, QUEUE, EVENTS, ENTRY + entry_id]
        entry = {k: fields.get(k, "") for k in ("ref", "conversation", "reason", "urgent", "street", "phone", "at")}
        code, case_id = await self._open(keys=keys, args=[CASE, json.dumps(entry), epoch])
        return Opened(int(code), _s(case_id))

    async def get(self, case_id: str) -> Case | None:
        raw = await self.redis.hgetall(CASE + case_id)
        return Case.from_hash(raw) if raw else None

    async def queue(self, limit: int = 200) -> list[Case]:
        """Open cases, urgent first, then the longest waiting."""
        ids = [_s(i) for i in await self.redis.zrange(QUEUE, 0, limit - 1)]
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for case_id in ids:
                pipe.hgetall(CASE + case_id)
            rows = await pipe.execute()
        return [Case.from_hash(r) for r in rows if r]

    async def claim(self, case: Case, username: str, unit: str) -> tuple[bool, str]:
        """(won, holder): exactly one of several simultaneous claims wins."""
        keys = [CASE + case.id, HOLD + case.conversation.render(), EVENTS]
        won, holder = await self._claim(keys=keys, args=[username, unit, _now(), case.id])
        return bool(int(won)), _s(holder)

    async def end(self, case: Case, username: str, status: str, note: str = "") -> bool:
        """Release to the bot or close: only by its holder (username '' = the resident ended it)."""
        conv = case.conversation.render()
        keys = [CASE + case.id, HOLD + conv, CASE_OF + conv, QUEUE, EVENTS]
        done = await self._end(keys=keys, args=[username, status, _now(), note, case.id, CLOSED_TTL_S])
        return bool(int(done))

    async def audit(self, staff: str, action: str, case_id: str = "", detail: str = "") -> None:
        """Who did what to which case; never personal data (no phones, names, texts)."""
        entry = {"at": _now(), "staff": staff, "action": action, "case": case_id, "detail": detail}
        await self.redis.xadd(AUDIT, entry, maxlen=AUDIT_MAXLEN, approximate=True)  # type: ignore[arg-type]

    async def audit_log(self, count: int = 200) -> list[dict[str, str]]:
        return [fields for _, fields in reversed(await rstream.latest(self.redis, AUDIT, count))]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _epoch(at: str) -> int:
    try:
        return int(datetime.fromisoformat(at).timestamp())
    except ValueError:
        return int(datetime.now(UTC).timestamp())
