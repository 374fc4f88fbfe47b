"""Rule-based entity extraction from the training data's regexes, lookups and synonyms.

Conventions of `nlu_data/` (all plain Rasa constructs, so Rasa can read them unchanged):
- `synonym: <canonical street>` lists short and colloquial names of a street ("南西");
  `synonym: 全区` lists district-wide phrasings; other synonyms whose value is a road or a
  landmark name give English or loose spellings of it.
- `lookup: road` and `lookup: landmark` list roads and landmarks (Rasa extracts them as the
  entities `road` / `landmark`); `lookup: in_<street>` lists the roads and landmarks that lie in
  that street. A road in several streets is in several `in_` tables, so it yields one `street`
  entity per street: Rasa's one-value synonyms cannot express that.
- `regex: phone` and `regex: suggestion_id` give the patterns of those entities.

`synonym: en` / `synonym: zh` name languages (entity `language`, for switch_language).

Values: streets are canonical names of dialogs.places.STREETS; `district` is "全区"; phone is
the 11 digits; suggestion_id is "JA-2026-000123" when written in full, else the bare number
("123号建议" -> "123") that the dialog matches against the resident's own suggestions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from dialogs.places import DISTRICT_WIDE, STREETS
from dialogs.understanding import Entity

from .training_data import TrainingData

AREA_PREFIX = "in_"
# Placeholders that replace entity spans before classification, so "常德路那边" and "南西那边"
# look alike to the classifiers. Private-use characters never occur in real text.
PLACE_MARK = "\ue000"
PHONE_MARK = "\ue001"
ID_MARK = "\ue002"
MARKS = {
    "street": PLACE_MARK,
    "district": PLACE_MARK,
    "road": PLACE_MARK,
    "landmark": PLACE_MARK,
    "phone": PHONE_MARK,
    "suggestion_id": ID_MARK,
}
LANGUAGES = ("en", "zh")  # values of the `language` synonyms
FULL_ID_RE = re.compile(r"ja\s*-?\s*(\d{4})\s*-?\s*(\d{1,6})", re.IGNORECASE)


def normalize(text: str) -> str:
    """NFKC (full-width digits and letters) and lower case, one character at a time so that
    offsets into the result are offsets into the original text."""
    out: list[str] = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch).lower()
        out.append(n if len(n) == 1 else ch)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class PlaceTerm:
    kind: str  # street | district | road | landmark | language
    name: str  # canonical name (street, road or landmark)
    streets: tuple[str, ...]


class EntityExtractor:
    def __init__(self, data: TrainingData) -> None:
        self.synonyms: dict[str, str] = {}  # normalized variant -> value
        for value, variants in data.synonyms.items():
            for variant in (value, *variants):
                self.synonyms[normalize(variant)] = value
        roads = set(data.lookups.get("road", ()))
        landmarks = set(data.lookups.get("landmark", ()))
        located: dict[str, list[str]] = {}
        for name, elements in data.lookups.items():
            if name.startswith(AREA_PREFIX):
                street = name.removeprefix(AREA_PREFIX)
                if street not in STREETS:
                    raise ValueError(f"lookup {name}: {street} is not a Jing'an street")
                for element in elements:
                    located.setdefault(element, []).append(street)
        self.terms: dict[str, PlaceTerm] = {}

        def place(name: str) -> PlaceTerm | None:
            if name in STREETS:
                return PlaceTerm("street", name, (name,))
            if name == DISTRICT_WIDE:
                return PlaceTerm("district", name, ())
            if name in LANGUAGES:
                return PlaceTerm("language", name, ())
            streets = tuple(sorted(set(located.get(name, ())), key=STREETS.index))
            if name in roads:
                return PlaceTerm("road", name, streets)
            if name in landmarks:
                return PlaceTerm("landmark", name, streets)
            return None

        for name in (*STREETS, DISTRICT_WIDE, *roads, *landmarks):
            term = place(name)
            if term:
                self.terms[normalize(name)] = term
        for variant, value in self.synonyms.items():
            term = place(value)
            if term:
                self.terms[variant] = term
        self.place_re = _alternation(self.terms)
        self.regexes: list[tuple[str, re.Pattern[str]]] = [
            (name, re.compile(pattern, re.IGNORECASE))
            for name, patterns in data.regexes.items()
            for pattern in patterns
        ]

    def place_words(self) -> list[str]:
        """Words for the segmenter's dictionary."""
        return [w for w in self.terms if not w.isascii()]

    def extract(self, text: str) -> list[Entity]:
        norm = normalize(text)
        found: list[Entity] = []
        taken: list[tuple[int, int]] = []
        for name, pattern in self.regexes:
            for m in pattern.finditer(norm):
                start, end = m.span()
                if start == end or _overlaps(taken, start, end):
                    continue
                value = _regex_value(name, m.group())
                if value is None:
                    continue
                taken.append((start, end))
                found.append(Entity(name, value, start, end, text[start:end], "regex"))
        for m in self.place_re.finditer(norm):
            start, end = m.span()
            if _overlaps(taken, start, end):
                continue
            term = self.terms[m.group()]
            written = text[start:end]
            if term.kind in ("road", "landmark"):
                found.append(Entity(term.kind, term.name, start, end, written, "lookup"))
                found.extend(Entity("street", s, start, end, written, "lookup") for s in term.streets)
            else:
                found.append(Entity(term.kind, term.name, start, end, written, "synonym"))
        found.sort(key=lambda e: (e.start, e.end))
        return found

    def map_value(self, value: str) -> str:
        """Apply the synonyms to a value extracted elsewhere (e.g. by a Rasa server)."""
        return self.synonyms.get(normalize(value), value)


def mask(text: str, entities: list[Entity]) -> str:
    """Replace entity spans by one placeholder character each."""
    out: list[str] = []
    pos = 0
    for e in sorted(entities, key=lambda e: e.start):
        if e.start < pos or e.entity not in MARKS:
            continue
        out.append(text[pos : e.start])
        out.append(MARKS.get(e.entity, PLACE_MARK))
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def _alternation(terms: dict[str, PlaceTerm]) -> re.Pattern[str]:
    parts = []
    # Longest first: Python's alternation takes the first alternative that matches at a
    # position, so "南京西路街道" wins over "南京西路".
    for term in sorted(terms, key=lambda t: (-len(t), t)):
        part = re.escape(term)
        if term[0].isascii() and term[0].isalnum():
            part = r"(?<![a-z0-9])" + part
        if term[-1].isascii() and term[-1].isalnum():
            part += r"(?![a-z0-9])"
        parts.append(part)
    return re.compile("|".join(parts) if parts else r"(?!x)x")


def _overlaps(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < e and s < end for s, e in taken)


def _regex_value(name: str, matched: str) -> str | None:
    if name == "phone":
        digits = re.sub(r"\D", "", matched)
        return digits if re.fullmatch(r"1[3-9]\d{9}", digits) else None
    if name == "suggestion_id":
        full = FULL_ID_RE.search(matched)
        if full:
            return f"JA-{full.group(1)}-{int(full.group(2)):06d}"
        number = re.search(r"\d+", matched)
        return str(int(number.group())) if number else None
    return matched
