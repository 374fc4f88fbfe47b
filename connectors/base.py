"""What every connector offers the rest of the bot besides its webhook: sending messages
outside a reply (status pushes, staff replies, slow answers)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from dialogs.messages import Outbound


class Delivery(StrEnum):
    SENT = "sent"
    HELD = "held"  # the platform's rules forbid sending now; deliver when the resident writes
    RETRY = "retry"  # transient: try again after `retry_after`
    UNREACHABLE = "unreachable"  # blocked the bot / unsubscribed: stop trying
    FAILED = "failed"  # permanent error for this message


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Delivery
    retry_after: float = 0.0
    detail: str = ""  # platform error code or reason; never personal data


class OutputChannel(Protocol):
    """Sends to one resident on one platform (`user_id` is the platform's id)."""

    channel: str

    async def send(self, user_id: str, messages: list[Outbound]) -> DeliveryResult: ...
