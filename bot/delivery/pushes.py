"""Pushes: messages for a resident outside a reply (status changes, invitations, questions,
staff replies), queued durably per channel and sent through the channel's OutputChannel."""

from __future__ import annotations

import json

from bot import logs, metrics
from bot.delivery.streams import Fields, Outcome, dumps
from bot.storage import Queued
from connectors.base import Delivery, OutputChannel
from dialogs.messages import ConversationKey, Outbound

log = logs.get("minsheng.pushes")


def push_stream(channel: str) -> str:
    return f"ms:push:{channel}"


def push(key: ConversationKey, messages: list[Outbound]) -> Queued:
    fields = {"conversation": key.render(), "messages": dumps([m.to_dict() for m in messages])}
    return Queued(push_stream(key.channel), fields)


class PushHandler:
    def __init__(self, output: OutputChannel) -> None:
        self.output = output

    async def __call__(self, fields: Fields) -> Outcome:
        key = ConversationKey.parse(fields["conversation"])
        messages = [Outbound.from_dict(m) for m in json.loads(fields["messages"])]
        result = await self.output.send(key.user_id, messages)
        metrics.PUSHES.labels(key.channel, result.outcome.value).inc()
        if result.outcome in (Delivery.SENT, Delivery.HELD):
            return Outcome()
        if result.outcome == Delivery.UNREACHABLE:
            log.info("resident unreachable", channel=key.channel, detail=result.detail)
            return Outcome()
        if result.outcome == Delivery.FAILED:
            return Outcome.dead_letter(result.detail or "failed")
        return Outcome.retry(result.retry_after or None)
