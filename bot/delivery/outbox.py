"""The outbox: submitted records and residents' later messages, on their way to the backend.

Entries are written in the same Redis transaction as the conversation state (see
Pipeline._carry_out), so the resident's receipt is only ever sent for a durable record.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from bot import logs, metrics
from bot.delivery.backend_client import BackendClient
from bot.delivery.streams import Fields, Outcome, dumps
from bot.storage import Queued
from dialogs.record import SuggestionRecord

OUTBOX = "ms:outbox"
OWNERS = "ms:owner"  # suggestion id → conversation key (for events coming back)

log = logs.get("minsheng.outbox")


def submission(record: SuggestionRecord, conversation: str) -> list[Queued]:
    return [
        Queued(OUTBOX, {"type": "suggestion", "id": record.id, "record": dumps(record.to_dict())}),
        Queued(OWNERS, {record.id: conversation}, op="hset"),
    ]


def resident_message(suggestion_id: str, kind: str, body: dict[str, object]) -> Queued:
    key = f"{suggestion_id}:{uuid.uuid4().hex}"
    fields = {"type": "message", "id": suggestion_id, "key": key, "kind": kind, "body": dumps(body)}
    return Queued(OUTBOX, fields)


class OutboxHandler:
    def __init__(self, client: BackendClient) -> None:
        self.client = client

    async def __call__(self, fields: Fields) -> Outcome:
        if fields.get("type") == "suggestion":
            record = json.loads(fields["record"])
            reply = await self.client.submit(record)
        elif fields.get("type") == "message":
            reply = await self.client.message(fields["id"], fields["key"], fields["kind"], json.loads(fields["body"]))
        else:
            return Outcome.dead_letter(f"unknown entry type {fields.get('type')!r}")
        if reply.ok:
            metrics.DELIVERED.labels(fields["type"]).inc()
            if fields["type"] == "suggestion":
                submitted = datetime.fromisoformat(record["submitted_at"])
                metrics.DELIVERY_SECONDS.observe((datetime.now(UTC) - submitted).total_seconds())
            log.info("delivered", type=fields["type"], id=fields["id"])
            return Outcome()
        if reply.permanent:
            return Outcome.dead_letter(reply.detail)
        log.warning("backend unavailable", id=fields["id"], detail=reply.detail)
        return Outcome.retry()
