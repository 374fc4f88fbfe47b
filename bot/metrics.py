"""Prometheus metrics of the process (served on /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

TURNS = Counter("minsheng_turns_total", "Dialog turns processed", ["channel"])
DUPLICATES = Counter("minsheng_duplicate_messages_total", "Re-delivered messages answered from cache", ["channel"])
TURN_SECONDS = Histogram(
    "minsheng_turn_seconds",
    "Time from inbound message to answer, lock wait included",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
SUBMISSIONS = Counter("minsheng_submissions_total", "Suggestions handed to the backend", ["outcome"])
ESCALATIONS = Counter("minsheng_escalations_total", "Conversations escalated to staff", ["reason"])
DELIVERED = Counter("minsheng_outbox_delivered_total", "Outbox entries accepted by the backend", ["type"])
DELIVERY_SECONDS = Histogram(
    "minsheng_outbox_delivery_seconds",
    "From submission to the backend's acceptance",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600),
)
RETRIES = Counter("minsheng_delivery_retries_total", "Transient delivery failures, retried", ["stream"])
DEAD_LETTERS = Counter("minsheng_dead_letters_total", "Entries moved to a dead-letter stream", ["stream"])
PUSHES = Counter("minsheng_pushes_total", "Pushes to residents by outcome", ["channel", "outcome"])
