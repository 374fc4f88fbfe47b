"""Rendering outbound messages for WeChat: passive replies and customer-service payloads."""

from __future__ import annotations

import time
from typing import Any

from wechatpy.replies import TextReply

from connectors.render import numbered
from dialogs.messages import Outbound

TEXT_LIMIT = 2048  # bytes (UTF-8) of one text message, passive or customer-service
MENU_LIMIT = 10  # msgmenu items we are willing to show as a click menu
MENU_TITLE = 30
SEPARATOR = "\n\n"


def size(text: str) -> int:
    return len(text.encode())


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for raw_line in text.split("\n"):
        line = raw_line
        candidate = f"{current}\n{line}" if current else line
        if size(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while size(line) > limit:  # one very long line: cut it by characters
            cut = len(line.encode()[:limit].decode(errors="ignore"))
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


def pack(parts: list[str], limit: int = TEXT_LIMIT) -> list[str]:
    """Join parts with blank lines into as few messages as fit, splitting oversized ones."""
    messages: list[str] = []
    for part in parts:
        for piece in split_text(part, limit):
            if messages and size(messages[-1] + SEPARATOR + piece) <= limit:
                messages[-1] += SEPARATOR + piece
            else:
                messages.append(piece)
    return messages


def passive_xml(openid: str, account: str, text: str) -> str:
    reply = TextReply(source=account, target=openid, content=text, time=int(time.time()))
    xml: str = reply.render()
    return xml


def fits_menu(message: Outbound) -> bool:
    return (
        message.numbered
        and 0 < len(message.choices) <= MENU_LIMIT
        and all(len(c.title) <= MENU_TITLE and len(c.payload) <= 64 for c in message.choices)
        and size(message.text) <= TEXT_LIMIT - 200
    )


def custom_payloads(openid: str, messages: list[Outbound], menus: bool = True) -> list[dict[str, Any]]:
    """Customer-service message bodies: click menus where they fit, texts packed, then images.

    A msgmenu item's id is the choice's payload: WeChat sends it back as `bizmsgmenuid`.
    """
    payloads: list[dict[str, Any]] = []
    texts: list[str] = []

    def flush() -> None:
        payloads.extend({"touser": openid, "msgtype": "text", "text": {"content": t}} for t in pack(texts))
        texts.clear()

    for message in messages:
        if menus and fits_menu(message):
            head = message.text
            if texts and size(SEPARATOR.join([*texts, head])) <= TEXT_LIMIT - 200:
                # The texts before the menu ride in its head: one message of the window's 5.
                head = SEPARATOR.join([*texts, head])
                texts.clear()
            flush()
            items = [{"id": c.payload, "content": c.title} for c in message.choices]
            payloads.append({"touser": openid, "msgtype": "msgmenu", "msgmenu": {"head_content": head, "list": items}})
        elif message.text or message.choices:
            texts.append(numbered(message))
        if message.image:
            flush()
            payloads.append({"touser": openid, "msgtype": "image", "image": {"media_id": message.image}})
    flush()
    return payloads


def texts_of(messages: list[Outbound]) -> list[str]:
    return [numbered(m) for m in messages if m.text or m.choices]
