"""The backend port: accept a finalized record, give it an id, read records back."""

from __future__ import annotations

from typing import Protocol

from dialogs.record import SuggestionRecord


class BackendUnavailable(Exception):
    """A transient failure: the record was not accepted and may be submitted again."""


class Backend(Protocol):
    async def submit(self, record: SuggestionRecord) -> str:
        """Store the record and return its id. Idempotent: the same draft_id gives the same id."""
        ...

    async def get(self, suggestion_id: str) -> SuggestionRecord | None: ...

    async def list(self, limit: int = 100) -> list[SuggestionRecord]: ...

    async def close(self) -> None: ...
