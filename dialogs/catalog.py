"""The text catalogue: one TOML file per language under dialogs/texts/."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("zh", "en")
_DIR = Path(__file__).with_name("texts")


@cache
def _load(lang: str) -> dict[str, Any]:
    with (_DIR / f"{lang}.toml").open("rb") as fh:
        return tomllib.load(fh)


def lang_of(lang: str | None) -> str:
    return lang if lang in LANGUAGES else "zh"


def text(lang: str, key: str, **values: object) -> str:
    template: str = _load(lang_of(lang))["text"][key]
    return template.format(**values) if values else template


@cache
def words(lang: str, command: str) -> tuple[str, ...]:
    """Words that mean `command` in `lang` (compared after normalize())."""
    return tuple(normalize(w) for w in _load(lang_of(lang))["commands"][command])


def has(lang: str, key: str) -> bool:
    return key in _load(lang_of(lang))["text"]


@cache
def keywords(section: str, key: str) -> tuple[str, ...]:
    """Keywords of `section.key` in every language (matched inside a text, after normalize())."""
    found: list[str] = []
    for lang in LANGUAGES:
        found.extend(normalize(w) for w in _load(lang)[section][key])
    return tuple(dict.fromkeys(found))


def category_label(lang: str, key: str) -> str:
    label: str = _load(lang_of(lang))["category"][key]
    return label


def street_label(lang: str, street: str) -> str:
    label: str = _load(lang_of(lang))["street"].get(street, street)
    return label


def keys(lang: str) -> dict[str, set[str]]:
    """Every key of each section, for checking that the catalogues mirror each other."""
    return {section: set(table) for section, table in _load(lang).items()}


_FULLWIDTH = str.maketrans("0123456789,。!?;:", "0123456789,.!?;:")
_EDGES = re.compile(r"^[\s.!?,;~]+|[\s.!?,;~]+$")


def normalize(raw: str) -> str:
    """Lower-case, full-width digits to ASCII, surrounding spaces and end punctuation dropped."""
    return _EDGES.sub("", raw.translate(_FULLWIDTH)).lower()
