"""Pushes to Telegram outside a reply (status updates, staff replies): connectors.base.OutputChannel.

Limits: ~1 msg/s per chat and ~30 msg/s overall (connectors.telegram.limiter). A 429 asking
for at most `Sender.max_wait_s` (10 s) is waited out inside `send`; a longer one returns
Delivery.RETRY with Telegram's `retry_after`, for the delivery queue to schedule. A 403 (the
resident blocked the bot) marks them unreachable and returns Delivery.UNREACHABLE; `send` then
refuses at once until the resident writes again (the connector clears the mark).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from redis.asyncio import Redis

from bot import logs
from connectors.base import Delivery, DeliveryResult
from connectors.telegram.inbound import CHANNEL
from connectors.telegram.outbound import Progress, Sender
from dialogs.messages import Outbound

log = logs.get("minsheng.telegram")

UNREACHABLE_KEY = "ms:unreachable:telegram"
NETWORK_RETRY_S = 5.0
AUTH_RETRY_S = 300.0


class Unreachable:
    """Residents who blocked the bot, as a Redis set of platform user ids (never logged)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def mark(self, user_id: str) -> None:
        await self.redis.sadd(UNREACHABLE_KEY, user_id)

    async def clear(self, user_id: str) -> None:
        await self.redis.srem(UNREACHABLE_KEY, user_id)

    async def contains(self, user_id: str) -> bool:
        return bool(await self.redis.sismember(UNREACHABLE_KEY, user_id))


class TelegramChannel:
    channel = CHANNEL

    def __init__(self, sender: Sender, unreachable: Unreachable, language: Callable[[str], Awaitable[str]]) -> None:
        self.sender = sender
        self.unreachable = unreachable
        self.language = language  # the conversation's language, for the keyboards' button texts

    async def send(self, user_id: str, messages: list[Outbound]) -> DeliveryResult:
        if await self.unreachable.contains(user_id):
            return DeliveryResult(Delivery.UNREACHABLE, detail="blocked")
        # A push retried after a partial send resumes where it stopped: its progress is kept
        # under a digest of its content until it is complete.
        digest = hashlib.sha256(json.dumps([user_id, [m.to_dict() for m in messages]]).encode()).hexdigest()[:32]
        key = f"ms:tg:push:{digest}"
        done = await self.sender.redis.get(key)
        progress = Progress(key, int(done) if done else 0)
        try:
            await self.sender.deliver(int(user_id), messages, await self.language(user_id), progress)
        except TelegramRetryAfter as exc:
            # `detail` says how far it got; the retry resends from there (see `progress`).
            return DeliveryResult(Delivery.RETRY, float(exc.retry_after), self._partial("429", progress))
        except TelegramForbiddenError:
            await self.unreachable.mark(user_id)
            log.info("telegram resident unreachable", sent=progress.sent)
            return DeliveryResult(Delivery.UNREACHABLE, detail=self._partial("403", progress))
        except TelegramUnauthorizedError:
            log.error("telegram token refused")
            return DeliveryResult(Delivery.RETRY, AUTH_RETRY_S, self._partial("401", progress))
        except (TelegramNetworkError, TelegramServerError) as exc:
            log.warning("telegram unavailable", error=type(exc).__name__)
            return DeliveryResult(Delivery.RETRY, NETWORK_RETRY_S, self._partial("network", progress))
        except TelegramBadRequest as exc:
            log.warning("telegram refused a push", error=exc.message)
            return DeliveryResult(Delivery.FAILED, detail=self._partial("400", progress))
        except TelegramAPIError as exc:
            log.warning("telegram push failed", error=type(exc).__name__)
            return DeliveryResult(Delivery.RETRY, NETWORK_RETRY_S, self._partial("error", progress))
        await self.sender.redis.delete(key)
        return DeliveryResult(Delivery.SENT)

    @staticmethod
    def _partial(code: str, progress: Progress) -> str:
        return f"{code}; sent {progress.sent} of {progress.total}"
