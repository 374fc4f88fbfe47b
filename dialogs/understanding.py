"""What the NLU tells the dialog engine about a piece of free text.

The engine depends only on these types; a rule-based, a trained or a remote (Rasa) engine
implements `Understander`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Entity:
    entity: str  # "street", "phone", "suggestion_id", "road", "landmark"
    value: str  # canonical value after synonym mapping (e.g. "南京西路街道")
    start: int
    end: int
    text: str = ""  # the words as written
    extractor: str = "rules"


@dataclass(frozen=True, slots=True)
class Understanding:
    intent: str | None = None  # None: unsure
    confidence: float = 0.0
    entities: tuple[Entity, ...] = ()
    category: str | None = None  # a key of dialogs.categories.CATEGORIES
    category_confidence: float = 0.0
    intent_ranking: tuple[tuple[str, float], ...] = field(default=())

    def values(self, entity: str) -> list[str]:
        """Distinct values of one entity type, in order of appearance."""
        seen: list[str] = []
        for e in sorted(self.entities, key=lambda e: e.start):
            if e.entity == entity and e.value not in seen:
                seen.append(e.value)
        return seen


NOTHING = Understanding()


class Understander(Protocol):
    async def parse(self, text: str, lang: str = "zh") -> Understanding: ...
