"""Recognising what is not a suggestion: emergencies (by keyword, whatever the NLU says) and
short questions that interrupt the form. Keyword lists live in the catalogue (`[emergency]`,
`[interrupt]`) and are matched in every language."""

from __future__ import annotations

import re

from dialogs import catalog

# Which number fits which emergency, in the order they are told.
EMERGENCY_KINDS = ("fire", "medical", "police")
_QUESTION_END = re.compile(r"(?:[??]|吗|呢|么|嘛)$")


def emergency_kinds(text: str) -> list[str]:
    """Kinds of emergency the text names clearly (着火 → fire, 晕倒 → medical, 抢劫 → police)."""
    norm = catalog.normalize(text)
    return [kind for kind in EMERGENCY_KINDS if any(w in norm for w in catalog.keywords("emergency", kind))]


def mentions(text: str, key: str) -> bool:
    """The text contains one of the `[interrupt].key` keywords."""
    norm = catalog.normalize(text)
    return any(w in norm for w in catalog.keywords("interrupt", key))


def short_or_question(raw: str, lang: str) -> bool:
    """Short enough, or shaped like a question, to be an aside rather than an answer.

    Deliberately conservative: a long description given at a free-text step is the answer."""
    text = raw.strip()
    if catalog.lang_of(lang) == "en":
        words = len(text.split())
        return words <= 6 or (words <= 14 and text.endswith("?"))
    size = len(re.sub(r"\s", "", text))
    return size <= 10 or (size <= 20 and bool(_QUESTION_END.search(text)))
