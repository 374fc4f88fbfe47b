"""A REST chat channel compatible with Rasa's REST channel.

POST /webhooks/rest/webhook {"sender": "...", "message": "..."} answers with a JSON list of
{"recipient_id", "text", "buttons": [{"title", "payload"}]}. A button's payload sent back as
the message counts as pressing it. Optional extensions: "message_id" (re-sending the same id
returns the same answer instead of a second turn) and "metadata": {"language": "en"}.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from bot.pipeline import Pipeline
from connectors.base import Delivery, DeliveryResult
from dialogs.messages import ConversationKey, Inbound, Outbound

CHANNEL = "rest"
MAX_MESSAGE = 4000
MAX_SENDER = 128


def _bad(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


def to_inbound(body: Any) -> Inbound | str:
    """Parse a request body into an inbound message, or return why it is refused."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    sender, message = body.get("sender"), body.get("message", "")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER:
        return f"sender must be a non-empty string of at most {MAX_SENDER} characters"
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        return f"message must be a string of at most {MAX_MESSAGE} characters"
    message_id = body.get("message_id") or uuid.uuid4().hex
    metadata = body.get("metadata")
    language = metadata.get("language") if isinstance(metadata, dict) else None
    payload = message.strip() if message.strip().startswith("/") else None
    return Inbound(
        key=ConversationKey(CHANNEL, sender),
        message_id=f"rest:{message_id}",
        text="" if payload else message,
        payload=payload,
        language_hint=language if isinstance(language, str) else None,
    )


def render(recipient: str, messages: list[Outbound]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"recipient_id": recipient, "text": message.text}
        if message.choices:
            item["buttons"] = [c.to_dict() for c in message.choices]
        if message.image:
            item["image"] = message.image
        out.append(item)
    return out


class Inbox:
    """Pushes for residents of channels without a way to send unasked (REST, terminal): kept
    in Redis until the resident collects them (`GET /webhooks/rest/pushes/<sender>`) or with
    their next exchange."""

    TTL_S = 90 * 86400
    MAX = 1000  # pushes handed over at once

    def __init__(self, redis: Redis, channel: str) -> None:
        self.redis = redis
        self.channel = channel

    def key(self, user_id: str) -> str:
        return f"ms:inbox:{self.channel}:{user_id}"

    async def send(self, user_id: str, messages: list[Outbound]) -> DeliveryResult:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(self.key(user_id), *(json.dumps(m.to_dict(), ensure_ascii=False) for m in messages))
            pipe.expire(self.key(user_id), self.TTL_S)
            await pipe.execute()
        return DeliveryResult(Delivery.SENT)

    async def collect(self, user_id: str) -> list[Outbound]:
        # One atomic command (LPOP with a count) on every exchange: cheap when nothing waits.
        raw: list[bytes] | None = await self.redis.lpop(self.key(user_id), self.MAX)  # type: ignore[assignment]
        return [Outbound.from_dict(json.loads(item)) for item in raw or []]


class RestChannel:
    def __init__(self, pipeline: Pipeline, inbox: Inbox) -> None:
        self.pipeline = pipeline
        self.inbox = inbox

    def register(self, app: web.Application) -> None:
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_get("/webhooks/rest/", self.health)
        app.router.add_get("/webhooks/rest/pushes/{sender}", self.pushes)

    async def pushes(self, request: web.Request) -> web.Response:
        sender = request.match_info["sender"]
        return web.json_response(render(sender, await self.inbox.collect(sender)))

    async def health(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def webhook(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _bad("body must be JSON")
        inbound = to_inbound(body)
        if isinstance(inbound, str):
            return _bad(inbound)
        turn = await self.pipeline.handle(inbound)
        waiting = await self.inbox.collect(inbound.key.user_id)
        return web.json_response(render(inbound.key.user_id, waiting + turn.messages))
