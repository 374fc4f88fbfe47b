"""The writing coach (the seed's "如何撰写人民建议"): spots a thin problem or proposal and
proposes a short title. Pure functions over text; the words it looks for live in the catalogue
(`[coach]`), so both languages are covered.
"""

from __future__ import annotations

import re

from dialogs import catalog
from dialogs.understanding import Understanding

MAX_TITLE = {"zh": 20, "en": 60}
# Below this a description is too thin to act on (characters in Chinese, words in English).
THIN = {"zh": 12, "en": 8}
_LEAD = re.compile(r"^(?:我)?(?:建议|希望|要求|提议|请求|请|能不能|可不可以|可否|应该)\s*")
_LEAD_EN = re.compile(
    r"^(?:i\s+)?(?:suggest|propose|would like to|hope|please|could you|we should|they should)\s+(?:that\s+)?",
    re.IGNORECASE,
)
_VAGUE = re.compile(r"(?:那边|这边|附近|一带|旁边|那里|这里|那块|周边)$")
_CLAUSE = re.compile(r"[。!?!?\n;;,,]|\.\s")


def _size(text: str, lang: str) -> int:
    return len(text.split()) if catalog.lang_of(lang) == "en" else len(re.sub(r"\s", "", text))


def _has(text: str, key: str) -> bool:
    norm = catalog.normalize(text)
    return any(word in norm for word in catalog.keywords("coach", key))


def problem_gap(text: str, nlu: Understanding, lang: str) -> str | None:
    """The catalogue key of what a problem description misses, or None when it is fine."""
    size = _size(text, lang)
    if _has(text, "emotion") and size < THIN[catalog.lang_of(lang)] * 2:
        return "coach_emotion"
    if size < THIN[catalog.lang_of(lang)]:
        placed = bool(nlu.values("road") or nlu.values("landmark")) or _has(text, "place")
        return "coach_problem_detail" if placed else "coach_problem_place"
    return None


def proposal_gap(text: str, lang: str) -> str | None:
    """The catalogue key of what a proposal misses, or None when it is fine."""
    size = _size(text, lang)
    if _has(text, "emotion") and size < THIN[catalog.lang_of(lang)] * 2:
        return "coach_emotion"
    if not _has(text, "action"):
        return "coach_proposal_action"
    if size < THIN[catalog.lang_of(lang)] // 2:
        return "coach_proposal_detail"
    return None


def join(old: str, addition: str, lang: str) -> str:
    """The resident's addition appended to what they wrote before."""
    old, addition = old.strip(), addition.strip()
    if not old:
        return addition
    if catalog.lang_of(lang) == "en":
        return f"{old.rstrip('.')}. {addition}"
    return f"{old.rstrip('。,,')},{addition}"  # noqa: B005 (any of these end marks)


def propose_title(proposal: str, problem: str, lang: str, place: str = "") -> str:
    """A short title: the proposal's first clause without "建议/希望…", else the problem's."""
    limit = MAX_TITLE[catalog.lang_of(lang)]
    lead = _LEAD_EN if catalog.lang_of(lang) == "en" else _LEAD
    title = ""
    for source in (proposal, problem):
        clauses = [c.strip() for c in _CLAUSE.split(source.strip()) if c.strip()]
        # The first clause that says what to do (not "太危险了"), else the first one.
        acting = [c for c in clauses if _has(c, "action") and not _has(c, "emotion")]
        for clause in [*sorted(acting, key=len, reverse=True), *clauses][:1]:
            first = lead.sub("", clause).strip()
            if _size(first, lang) >= 2:
                title = first
        if title:
            break
    if not title:
        title = (proposal or problem).strip()
    place = _VAGUE.sub("", place.strip())
    if catalog.lang_of(lang) == "en":
        title = title[:1].upper() + title[1:]
    elif len(place) >= 3 and place[:2] not in title and not title.startswith("在") and len(place) + len(title) <= limit:
        title = place + title
    return title if len(title) <= limit else title[: limit - 1] + "…"
