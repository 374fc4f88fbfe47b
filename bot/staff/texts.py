"""The staff console's text catalogue (bot/staff/texts.toml)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

_FILE = Path(__file__).with_name("texts.toml")


@cache
def _load() -> dict[str, Any]:
    with _FILE.open("rb") as fh:
        return tomllib.load(fh)


def t(key: str, **values: object) -> str:
    template: str = _load()["text"][key]
    return template.format(**values) if values else template


def table(section: str) -> dict[str, str]:
    """A whole section (channel names, dimension titles), in file order."""
    return dict(_load()[section])
