"""Telegram's send limits, kept in-process: about 1 message a second per chat and 30 a second
overall (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).

Token buckets: a chat may burst a few messages (one turn's answer is often 2-3 messages and
Telegram tolerates short bursts) but averages 1/s; the whole bot averages 30/s. Several
workers each keep their own buckets; a 429 from Telegram remains the final word.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def delay(self) -> float:
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class RateLimiter:
    def __init__(
        self,
        per_chat: float = 1.0,
        chat_burst: float = 3,
        overall: float = 30.0,
        overall_burst: float = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_chat, self.chat_burst = per_chat, chat_burst
        self.clock = clock
        self._all = _Bucket(overall, overall_burst, overall_burst, clock())
        self._chats: dict[int, _Bucket] = {}

    async def wait(self, chat_id: int) -> None:
        """Return once a message to `chat_id` may be sent (and count it)."""
        while True:
            now = self.clock()
            chat = self._chats.get(chat_id)
            if chat is None:
                chat = self._chats[chat_id] = _Bucket(self.per_chat, self.chat_burst, self.chat_burst, now)
            chat.refill(now)
            self._all.refill(now)
            delay = max(chat.delay(), self._all.delay())
            if delay == 0:
                # No await between the check and the take: atomic within the event loop.
                chat.tokens -= 1
                self._all.tokens -= 1
                self._forget_idle(now)
                return
            await asyncio.sleep(delay)

    def _forget_idle(self, now: float) -> None:
        """Drop full buckets now and then so the table does not grow with every resident."""
        if len(self._chats) < 10_000:
            return
        for chat_id, bucket in list(self._chats.items()):
            bucket.refill(now)
            if bucket.tokens >= bucket.capacity:
                del self._chats[chat_id]
