"""Rendering outbound messages for channels that only show text."""

from __future__ import annotations

from dialogs.messages import Outbound


def numbered(message: Outbound) -> str:
    """The text with its choices as numbered lines, answerable with a digit."""
    if not message.choices or not message.numbered:
        return message.text
    lines = [message.text]
    if len(message.choices) <= 4 and all(len(c.title) <= 6 for c in message.choices):
        lines.append("  ".join(f"{n} {c.title}" for n, c in enumerate(message.choices, start=1)))
    else:
        lines.extend(f"{n} {c.title}" for n, c in enumerate(message.choices, start=1))
    return "\n".join(lines)
