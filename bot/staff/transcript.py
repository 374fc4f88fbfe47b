"""A conversation's transcript: a Redis stream per conversation, kept as long as its state.

The pipeline writes the resident's and the bot's lines inside its own save (no extra round trip);
staff replies and system notes are appended here. The console follows the stream live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from bot.staff import rstream
from dialogs.messages import ConversationKey, Outbound

MAXLEN = 500  # lines kept per conversation (older ones are trimmed)
START = "start"  # marker line that creates the stream with its TTL; never shown
ESCALATED = "escalated"  # system line: text is the reason


def stream_key(key: ConversationKey) -> str:
    return f"ms:transcript:{key.render()}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def line(who: str, text: str, at: str = "", staff: str = "") -> dict[str, str]:
    """A stream entry: who is resident | bot | staff | system | start."""
    entry = {"who": who, "text": text, "at": at or now_iso()}
    if staff:
        entry["staff"] = staff
    return entry


def bot_text(messages: list[Outbound]) -> str:
    """The bot's answer as one line, with its choices (what the resident saw)."""
    parts = []
    for m in messages:
        choices = " ".join(f"[{c.title}]" for c in m.choices)
        parts.append(m.text + (f"\n{choices}" if choices else ""))
    return "\n\n".join(parts)


@dataclass(frozen=True, slots=True)
class Line:
    id: str
    who: str
    text: str
    at: str
    staff: str = ""

    @classmethod
    def from_entry(cls, entry_id: str, get: dict[str, str]) -> Line:
        return cls(entry_id, get.get("who", ""), get.get("text", ""), get.get("at", ""), get.get("staff", ""))

    def to_dict(self) -> dict[str, str]:
        return {"who": self.who, "text": self.text, "at": self.at, **({"staff": self.staff} if self.staff else {})}


class Transcripts:
    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def append(self, key: ConversationKey, entry: dict[str, str]) -> str:
        name = stream_key(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(name, entry, maxlen=MAXLEN, approximate=True)  # type: ignore[arg-type]
            pipe.expire(name, self.ttl_s)
            entry_id, _ = await pipe.execute()
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def read(self, key: ConversationKey, count: int = 200) -> list[Line]:
        return [ln for ln in (Line.from_entry(*e) for e in await rstream.latest(self.redis, stream_key(key), count))
                if ln.who != START]

    async def for_submission(self, key: ConversationKey) -> list[dict[str, str]] | None:
        """The transcript to attach to a suggestion record (field `transcript`), when the
        conversation was escalated to staff; None otherwise."""
        lines = await self.read(key, MAXLEN)
        if not any(ln.who == "system" and ln.text.startswith(ESCALATED) for ln in lines):
            return None
        return [ln.to_dict() for ln in lines]
