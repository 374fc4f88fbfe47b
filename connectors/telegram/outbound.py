"""Outbound → Telegram send calls: inline keyboards for choices, reply keyboards for the
contact/location hints, texts split under Telegram's 4,096-character limit.

`pieces()` is pure; `Sender` does the I/O (rate limit, 429 waits, callback-data ids and the
reply-keyboard marker in Redis). Every message is plain text (no parse_mode): what a resident
or staff typed can never break the formatting or inject markup.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import EditMessageReplyMarkup, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from redis.asyncio import Redis

from bot import logs
from connectors.telegram.limiter import RateLimiter
from dialogs import catalog
from dialogs.messages import Choice, Hint, Outbound

log = logs.get("minsheng.telegram")
T = TypeVar("T")

TEXT_LIMIT = 4096  # Telegram counts UTF-16 code units
CALLBACK_LIMIT = 64  # bytes of callback_data
SHORT_PREFIX = "~"  # engine payloads start with "/", so "~" marks a stored one
CALLBACK_TTL_S = 90 * 86400  # buttons stay pressable as long as a draft can live, and then some
KEYBOARD_TTL_S = 30 * 86400
PROGRESS_TTL_S = 3 * 86400  # longer than Telegram keeps re-delivering an update


def callback_key(short: str) -> str:
    return f"ms:tg:cb:{short}"


def keyboard_key(chat_id: int) -> str:
    return f"ms:tg:kb:{chat_id}"


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Chunks of at most `limit` UTF-16 units, cut at line boundaries (inside a line only
    when the line alone is too long)."""
    lines: list[str] = []
    for whole in text.split("\n"):
        line = whole
        while _utf16(line) > limit:
            cut = limit
            while _utf16(line[:cut]) > limit:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    chunks: list[str] = []
    current: str | None = None
    for line in lines:
        if current is not None and _utf16(current) + 1 + _utf16(line) <= limit:
            current += "\n" + line
        else:
            if current is not None:
                chunks.append(current)
            current = line
    if current is not None:
        chunks.append(current)
    return [c for c in chunks if c.strip()]


@dataclass(frozen=True, slots=True)
class Piece:
    """One Telegram message to send: a text (or a photo) with at most one keyboard."""

    text: str = ""
    photo: str | None = None
    choices: tuple[Choice, ...] = ()
    reply: Hint = Hint.NONE  # a reply keyboard to show (contact or location)


def pieces(message: Outbound, lang: str) -> list[Piece]:
    out: list[Piece] = []
    if message.image:
        out.append(Piece(photo=message.image))
    chunks = split_text(message.text) or ([catalog.text(lang, "menu_prompt")] if message.choices else [])
    for n, chunk in enumerate(chunks):
        last = n == len(chunks) - 1
        out.append(Piece(text=chunk, choices=message.choices if last else ()))
    if message.hint in (Hint.CONTACT, Hint.LOCATION):
        if out and not out[-1].choices and out[-1].photo is None:
            out[-1] = Piece(text=out[-1].text, reply=message.hint)
        else:
            # A message carries one keyboard: the inline one stays with the question.
            key = "tg_contact_hint" if message.hint == Hint.CONTACT else "tg_location_hint"
            out.append(Piece(text=catalog.text(lang, key), reply=message.hint))
    return out


def reply_keyboard(hint: Hint, lang: str) -> ReplyKeyboardMarkup:
    if hint == Hint.CONTACT:
        rows = [
            [KeyboardButton(text=catalog.text(lang, "tg_share_phone"), request_contact=True)],
            [KeyboardButton(text=catalog.text(lang, "tg_skip"))],  # the engine's own skip word
        ]
    else:
        rows = [[KeyboardButton(text=catalog.text(lang, "tg_send_location"), request_location=True)]]
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, one_time_keyboard=True)


def _width(title: str) -> int:
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in title)


def layout(choices: tuple[Choice, ...], data: list[str]) -> InlineKeyboardMarkup:
    """Two buttons a row when every title is short, else one: long titles must stay readable."""
    buttons = [InlineKeyboardButton(text=c.title, callback_data=d) for c, d in zip(choices, data, strict=True)]
    per_row = 2 if all(_width(c.title) <= 16 for c in choices) else 1
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    return InlineKeyboardMarkup(inline_keyboard=rows)


@dataclass(slots=True)
class Progress:
    """How many outbound messages of one answer were sent; persisted under `key` when given,
    so a re-delivered update re-sends only what did not go out."""

    key: str | None = None
    sent: int = 0
    total: int = 0


@dataclass(slots=True)
class Sender:
    bot: Bot
    redis: Redis
    limiter: RateLimiter = field(default_factory=RateLimiter)
    max_wait_s: float = 10.0  # a 429 asking for longer than this is handed back to the caller
    max_waits: int = 3

    async def callback_data(self, payload: str) -> str:
        """The payload itself when it fits in 64 bytes, else a short id stored in Redis."""
        if len(payload.encode()) <= CALLBACK_LIMIT:
            return payload
        short = hashlib.sha256(payload.encode()).hexdigest()[:24]
        await self.redis.set(callback_key(short), payload.encode(), ex=CALLBACK_TTL_S)
        return SHORT_PREFIX + short

    async def resolve(self, data: str) -> str | None:
        """A pressed button's payload (None when its stored long payload has expired)."""
        if not data.startswith(SHORT_PREFIX):
            return data
        raw = await self.redis.get(callback_key(data.removeprefix(SHORT_PREFIX)))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def deliver(self, chat_id: int, messages: list[Outbound], lang: str, progress: Progress) -> None:
        """Send `messages` from `progress.sent` on. Raises Telegram's errors (TelegramRetryAfter
        only when Telegram asks for a longer wait than `max_wait_s`)."""
        progress.total = len(messages)
        plans = [pieces(m, lang) for m in messages]
        shows = any(p.reply for plan in plans for p in plan)
        remove = not shows and bool(await self.redis.exists(keyboard_key(chat_id)))
        for index in range(progress.sent, len(messages)):
            for piece in plans[index]:
                await self._send(chat_id, piece, lang, remove)
                if remove:
                    remove = False
                    await self.redis.delete(keyboard_key(chat_id))
            progress.sent = index + 1
            if progress.key:
                await self.redis.set(progress.key, str(progress.sent), ex=PROGRESS_TTL_S)
        if shows:
            await self.redis.set(keyboard_key(chat_id), b"1", ex=KEYBOARD_TTL_S)

    async def _send(self, chat_id: int, piece: Piece, lang: str, remove_keyboard: bool) -> None:
        inline: InlineKeyboardMarkup | None = None
        if piece.choices:
            inline = layout(piece.choices, [await self.callback_data(c.payload) for c in piece.choices])
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = inline
        if piece.reply:
            markup = reply_keyboard(piece.reply, lang)
        elif remove_keyboard:
            # One message holds one markup: remove the reply keyboard with it, then add the
            # inline keyboard by editing (bots may add an inline keyboard to their message).
            markup = ReplyKeyboardRemove()
        method: TelegramMethod[Message]
        if piece.photo:
            method = SendPhoto(chat_id=chat_id, photo=piece.photo, reply_markup=markup)
        else:
            method = SendMessage(chat_id=chat_id, text=piece.text, reply_markup=markup)
        sent = await self.call(chat_id, method)
        if remove_keyboard and inline is not None and not piece.reply:
            edit = EditMessageReplyMarkup(chat_id=chat_id, message_id=sent.message_id, reply_markup=inline)
            await self.call(chat_id, edit)

    async def call(self, chat_id: int, method: TelegramMethod[T]) -> T:
        """One API call inside the rate limits; a short 429 is waited out and retried here."""
        waits = 0
        while True:
            await self.limiter.wait(chat_id)
            try:
                return await self.bot(method)
            except TelegramRetryAfter as exc:
                if exc.retry_after > self.max_wait_s or waits >= self.max_waits:
                    raise
                waits += 1
                log.info("telegram flood wait", retry_after=exc.retry_after, method=method.__api_method__)
                await asyncio.sleep(exc.retry_after)
