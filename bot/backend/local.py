"""The embedded default backend: records in a SQLite file, ids sequential per year.

SQLite calls run in a worker thread so the event loop never blocks; `BEGIN IMMEDIATE` makes
the id allocation safe across processes sharing the file.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from dialogs.record import SuggestionRecord, format_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS suggestions (
    id TEXT PRIMARY KEY,
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    draft_id TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (year, seq)
)
"""


class LocalBackend:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    async def submit(self, record: SuggestionRecord) -> str:
        return await asyncio.to_thread(self._submit, record)

    def _submit(self, record: SuggestionRecord) -> str:
        year = datetime.fromisoformat(record.submitted_at).year
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT id FROM suggestions WHERE draft_id = ?", (record.draft_id,)).fetchone()
            if row:
                db.execute("COMMIT")
                return str(row[0])
            (last,) = db.execute("SELECT COALESCE(MAX(seq), 0) FROM suggestions WHERE year = ?", (year,)).fetchone()
            record.id = format_id(year, int(last) + 1)
            db.execute(
                "INSERT INTO suggestions (id, year, seq, draft_id, record, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    year,
                    int(last) + 1,
                    record.draft_id,
                    json.dumps(record.to_dict(), ensure_ascii=False),
                    record.submitted_at,
                ),
            )
            db.execute("COMMIT")
            return record.id
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    async def get(self, suggestion_id: str) -> SuggestionRecord | None:
        return await asyncio.to_thread(self._get, suggestion_id)

    def _get(self, suggestion_id: str) -> SuggestionRecord | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT record FROM suggestions WHERE id = ?", (suggestion_id,)).fetchone()
        return SuggestionRecord.from_dict(json.loads(row[0])) if row else None

    async def list(self, limit: int = 100) -> builtins.list[SuggestionRecord]:
        return await asyncio.to_thread(self._list, limit)

    def _list(self, limit: int) -> builtins.list[SuggestionRecord]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT record FROM suggestions ORDER BY year DESC, seq DESC LIMIT ?", (limit,))
            return [SuggestionRecord.from_dict(json.loads(r[0])) for r in rows]

    async def close(self) -> None:
        return None
