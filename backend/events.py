"""Sends the backend's events (status changes, invitations, questions) to the bot until the
bot acknowledges each one; retries with exponential backoff and jitter."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from backend.db import Event
from backend.service import Office
from bot import logs, signing

log = logs.get("minsheng.backend.events")

Deliver = Callable[[dict[str, Any]], Awaitable[bool]]


def backoff(attempt: int, base: float = 0.5, cap: float = 300.0) -> float:
    """Full jitter: a random wait up to base·2^attempt, capped."""
    return random.uniform(0, min(cap, base * 2**attempt))


def envelope(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "type": event.type,
        "suggestion_id": event.suggestion_id,
        "data": event.data,
        "created_at": event.created_at.isoformat(),
    }


class HttpEvents:
    """Posts events to the bot's /backend/events, signed afresh on every attempt."""

    def __init__(self, url: str, secret: str, timeout_s: float = 10.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, event: dict[str, Any]) -> bool:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        body = json.dumps(event, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", **signing.sign(self.secret, body)}
        try:
            async with self._session.post(self.url, data=body, headers=headers) as resp:
                if resp.status >= 300:
                    log.warning("event refused", event=event["event_id"], status=resp.status)
                return resp.status < 300
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("event not delivered", event=event["event_id"], error=type(exc).__name__)
            return False

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class EventSender:
    def __init__(self, office: Office, deliver: Deliver, poll_s: float = 1.0) -> None:
        self.office = office
        self.deliver = deliver
        self.poll_s = poll_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            if not await self.send_due():
                self._wake.clear()
                with contextlib.suppress(TimeoutError):  # poll too: the CLI writes from elsewhere
                    await asyncio.wait_for(self._wake.wait(), self.poll_s)

    async def send_due(self) -> int:
        sent = 0
        for event in await self.office.due_events():
            try:
                ok = await self.deliver(envelope(event))
            except Exception:  # the bot side failed: keep the event and try again later
                log.exception("event delivery failed", event=event.id)
                ok = False
            if ok:
                await self.office.mark_event(event.id, delivered=True)
                sent += 1
            else:
                await self.office.mark_event(event.id, delivered=False, retry_in_s=backoff(event.attempts))
        return sent
