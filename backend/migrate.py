"""Schema migrations with Alembic, run at start-up (`upgrade head`)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(url: str) -> None:
    """Bring the database to the latest schema (synchronous: call before serving)."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    command.upgrade(config(url), "head")
