"""Long polling (`minsheng run --telegram-polling`) for deployments without a public URL.

Our own small loop over aiogram's getUpdates rather than Dispatcher.start_polling: aiogram
logs a failed update and moves the offset past it, which would lose it. Here the offset moves
past an update only once it was handled; a failed one is fetched again after a pause, and one
that keeps failing is parked in Redis (`ms:tg:parked`) for an operator, never dropped.
Updates of one chat run in order; different chats run concurrently.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import Update

from bot import logs
from connectors.telegram.webhook import ALLOWED_UPDATES, TelegramConnector

log = logs.get("minsheng.telegram")

PARKED_KEY = "ms:tg:parked"


def chat_of(update: Update) -> int | None:
    if update.message is not None:
        return update.message.chat.id
    if update.callback_query is not None and update.callback_query.message is not None:
        return update.callback_query.message.chat.id
    if update.my_chat_member is not None:
        return update.my_chat_member.chat.id
    return None


class Poller:
    def __init__(
        self,
        connector: TelegramConnector,
        timeout_s: int = 25,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
    ) -> None:
        self.connector = connector
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self._attempts: dict[int, int] = {}

    async def run(self) -> None:
        """Poll until cancelled."""
        bot = self.connector.bot
        # getUpdates is refused while a webhook is set; pending updates are kept.
        await bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        while True:
            try:
                updates = await bot.get_updates(
                    offset=offset,
                    timeout=self.timeout_s,
                    allowed_updates=ALLOWED_UPDATES,
                    request_timeout=self.timeout_s + 10,
                )
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
                continue
            except (TelegramNetworkError, TelegramServerError) as exc:
                log.warning("telegram polling failed", error=type(exc).__name__)
                await asyncio.sleep(self.backoff_s)
                continue
            if not updates:
                continue
            failed = await self.handle(updates)
            if failed is None:
                offset = updates[-1].update_id + 1
            else:
                offset = failed  # fetch it (and what follows) again
                await asyncio.sleep(self.backoff_s)

    async def handle(self, updates: list[Update]) -> int | None:
        """Handle a batch; the smallest update_id that must be fetched again, if any."""
        by_chat: dict[int | None, list[Update]] = defaultdict(list)
        for update in updates:
            by_chat[chat_of(update)].append(update)
        results = await asyncio.gather(*(self._in_order(group) for group in by_chat.values()))
        failed = [r for r in results if r is not None]
        return min(failed) if failed else None

    async def _in_order(self, updates: list[Update]) -> int | None:
        for update in updates:
            try:
                await self.connector.feed(update)
            except Exception:
                attempts = self._attempts.get(update.update_id, 0) + 1
                self._attempts[update.update_id] = attempts
                if attempts < self.max_attempts:
                    log.exception("telegram update failed; will fetch it again", update_id=update.update_id)
                    return update.update_id
                await self.connector.redis.rpush(PARKED_KEY, update.model_dump_json(exclude_none=True))
                log.exception("telegram update parked after repeated failures", update_id=update.update_id)
            self._attempts.pop(update.update_id, None)
        return None
