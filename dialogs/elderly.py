"""长辈模式 helpers: forgiving yes/no, numbered lines in the text, short pages of choices.

In elderly mode every question is one message whose text ends with its numbered choices and a
help line (0: a person, 9: a call-back), so 0 and 9 never number a choice: lists hold at most
eight choices, longer ones are split into pages of seven plus "more".
"""

from __future__ import annotations

import re

from dialogs.messages import Choice

MAX_CHOICES = 8  # 1..8: 0 and 9 are taken by the help line
PAGE = 7
HELP_DIGITS = ("0", "9")
# Particles and fillers residents add around a yes or a no ("好的呀", "对啊", "嗯嗯").
_FILLER = re.compile(r"[的呀啊吧哦噢了啦嘛呢哈~]+")


def _repeats(text: str, word: str) -> bool:
    return bool(word) and len(text) % len(word) == 0 and text == word * (len(text) // len(word))


def loose_yes_no(norm: str, yes: tuple[str, ...], no: tuple[str, ...]) -> bool | None:
    """Yes/no from the words of the catalogue, forgiving repeats and fillers: 对对对, 好的呀,
    嗯嗯, 不对不对. Negative words are tried first so that 不行 never reads as 行."""
    if not norm or len(norm) > 8:
        return None
    for text in (norm, _FILLER.sub("", norm) or norm):
        if any(_repeats(text, w) for w in no):
            return False
        if any(_repeats(text, w) for w in yes):
            return True
    return None


def numbered_lines(choices: tuple[Choice, ...]) -> str:
    """1 对  2 改 on one line when short, else one choice per line."""
    if len(choices) <= 4 and all(len(c.title) <= 6 for c in choices):
        return "  ".join(f"{n} {c.title}" for n, c in enumerate(choices, start=1))
    return "\n".join(f"{n} {c.title}" for n, c in enumerate(choices, start=1))


def page_of(choices: tuple[Choice, ...], page: int, more: Choice) -> tuple[Choice, ...]:
    """The choices shown on `page` (at most eight, the last one "more" when the list is long)."""
    if len(choices) <= MAX_CHOICES:
        return choices
    pages = (len(choices) + PAGE - 1) // PAGE
    start = (page % pages) * PAGE
    return (*choices[start : start + PAGE], more)


def page_count(choices: tuple[Choice, ...]) -> int:
    return 1 if len(choices) <= MAX_CHOICES else (len(choices) + PAGE - 1) // PAGE
