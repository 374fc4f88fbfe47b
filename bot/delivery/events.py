"""Events from the backend (status changes, invitations, questions) into the conversation.

`POST /backend/events` is signed like every backend call; a request whose signature was seen
before is a replay and refused. Each event then takes the ordinary turn pipeline as a system
message of the resident's conversation (`evt:<event_id>`, so a legitimate re-send is one turn),
and the answer goes out through the resident's channel as a push.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from bot import logs, signing
from bot.delivery.outbox import OWNERS
from bot.pipeline import Pipeline
from dialogs.messages import ConversationKey, EventKind, Inbound, PlatformEvent

log = logs.get("minsheng.events")

KINDS = {"status_changed": EventKind.STATUS_CHANGED, "invitation": EventKind.INVITATION,
         "question": EventKind.QUESTION}


class EventIntake:
    def __init__(self, pipeline: Pipeline, redis: Redis, secret: str) -> None:
        self.pipeline = pipeline
        self.redis = redis
        self.secret = secret

    async def accept(self, event: dict[str, Any]) -> tuple[int, str]:
        """Process one event envelope; returns an HTTP status and a reason."""
        kind = KINDS.get(str(event.get("type")))
        event_id, suggestion_id, data = event.get("event_id"), event.get("suggestion_id"), event.get("data")
        if kind is None or not isinstance(event_id, str) or not isinstance(suggestion_id, str):
            return 400, "type, event_id and suggestion_id are required"
        if not isinstance(data, dict):
            return 400, "data must be an object"
        owner: bytes | None = await self.redis.hget(OWNERS, suggestion_id)  # type: ignore[assignment]
        if owner is None:
            return 404, "no conversation for this suggestion"
        key = ConversationKey.parse(owner.decode())
        inbound = Inbound(key, f"evt:{event_id}", event=PlatformEvent(kind, {**data, "id": suggestion_id}))
        await self.pipeline.handle(inbound, push=True)
        log.info("event", type=kind.value, id=suggestion_id)
        return 200, "ok"

    async def handler(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if not signing.verify(self.secret, request.headers, raw):
            return web.json_response({"error": "bad or missing signature"}, status=401)
        # The same signature twice is a replay: a genuine re-send is signed afresh.
        seen = f"ms:seen-signature:{request.headers[signing.SIGNATURE]}"
        if not await self.redis.set(seen, b"1", nx=True, ex=signing.WINDOW_S * 2):
            return web.json_response({"error": "replayed request"}, status=401)
        try:
            event = json.loads(raw)
        except ValueError:
            return web.json_response({"error": "body must be JSON"}, status=400)
        if not isinstance(event, dict):
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        status, reason = await self.accept(event)
        return web.json_response({"status": reason}, status=status)
