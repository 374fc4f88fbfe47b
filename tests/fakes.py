"""Fake implementations of ports (not mocks), for tests that are not about the NLU."""

from __future__ import annotations

from dialogs.understanding import NOTHING, Understanding


class FakeUnderstander:
    """Understands nothing: every free text is 'unsure'."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def parse(self, text: str, lang: str = "zh") -> Understanding:
        self.calls.append(text)
        return NOTHING
