"""The Telegram connector: an aiogram Router turns updates into Inbound messages, runs each
through the pipeline and sends the answer. No dialog logic, no sentences of its own.

Delivery guarantee: an update is acknowledged (webhook 200, or the polling offset moved past
it) only after its answer went out, or after it was persisted (album photos). Re-deliveries
are answered from the pipeline's record (Turn.duplicate); a Redis progress marker per update
says how many of the answer's messages were sent, so a re-delivery after a failed send
re-sends the rest and one after a completed send sends nothing (at-least-once, per message).
"""

from __future__ import annotations

import hmac
import io
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, Update
from aiohttp import web
from pydantic import ValidationError
from redis.asyncio import Redis

from bot import logs
from bot.pipeline import Pipeline
from bot.speech import SpeechToText
from bot.storage import LockTimeout
from connectors.telegram import inbound as tin
from connectors.telegram.albums import Albums
from connectors.telegram.channel import TelegramChannel, Unreachable
from connectors.telegram.outbound import PROGRESS_TTL_S, Progress, Sender
from dialogs.messages import Attachment, AttachmentKind, ConversationKey, Inbound

log = logs.get("minsheng.telegram")

PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
DONE = b"done"
MAX_VOICE_BYTES = 10 * 1024 * 1024


def progress_key(update_id: int) -> str:
    return f"ms:tg:sent:{update_id}"


class TelegramConnector:
    def __init__(
        self,
        bot: Bot,
        pipeline: Pipeline,
        redis: Redis,
        speech: SpeechToText,
        webhook_secret: str = "",
        sender: Sender | None = None,
        album_window_s: float = 1.0,
    ) -> None:
        self.bot = bot
        self.pipeline = pipeline
        self.redis = redis
        self.speech = speech
        self.webhook_secret = webhook_secret
        self.sender = sender or Sender(bot, redis)
        self.unreachable = Unreachable(redis)
        self.channel = TelegramChannel(self.sender, self.unreachable, self.language)
        self.albums = Albums(redis, self._flush_album, window_s=album_window_s)
        self.poll_timeout_s = 25  # getUpdates long-poll seconds (with --telegram-polling)
        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(self._router())

    def _router(self) -> Router:
        router = Router(name="minsheng")
        # Private chats only: a group would expose one resident's suggestion to everyone.
        router.message.register(self._on_message, F.chat.type == "private")
        router.callback_query.register(self._on_callback)
        router.my_chat_member.register(self._on_membership, F.chat.type == "private")
        return router

    # ---- updates -------------------------------------------------------------------------

    async def feed(self, update: Update) -> None:
        """Handle one update completely (raises when it must be delivered again)."""
        await self.dispatcher.feed_update(self.bot, update)

    async def _on_message(self, message: Message, event_update: Update) -> None:
        sender = message.from_user
        if sender is None:
            return
        update_id = event_update.update_id
        await self.unreachable.clear(str(sender.id))
        if message.media_group_id and message.photo:
            await self._buffer_album(message, update_id)
            return
        current = "zh"
        command = tin.parse_command(message.text)
        if command is not None and command[0] in ("cancel", "lang"):
            current = await self.language(str(sender.id))
        inbound = tin.from_message(message, update_id, current)
        if inbound is None:
            return
        if message.voice is not None:
            inbound = await self._transcribe(message, inbound)
        await self.run_turn(inbound, message.chat.id, update_id)

    async def _on_callback(self, query: CallbackQuery, event_update: Update) -> None:
        update_id = event_update.update_id
        if await self.redis.get(progress_key(update_id)) == DONE:
            return  # answered, query included, the first time
        try:
            # Always answered, first: Telegram shows a spinner on the button until we do.
            await self.bot.answer_callback_query(query.id)
        except TelegramAPIError as exc:
            log.warning("callback answer failed", error=type(exc).__name__)
        chat = query.message.chat if query.message is not None else None
        if chat is None or chat.type != "private" or not query.data:
            return
        await self.unreachable.clear(str(query.from_user.id))
        payload = await self.sender.resolve(query.data)
        inbound = Inbound(
            key=tin.key_of(query.from_user),
            message_id=tin.message_id_of(update_id),
            payload=payload or query.data,
            language_hint=tin.language_hint(query.from_user.language_code),
        )
        await self.run_turn(inbound, chat.id, update_id)

    async def _on_membership(self, update: ChatMemberUpdated) -> None:
        # Blocking the bot arrives as "kicked"; unblocking as "member".
        user_id = str(update.from_user.id)
        if update.new_chat_member.status == "kicked":
            await self.unreachable.mark(user_id)
        elif update.new_chat_member.status == "member":
            await self.unreachable.clear(user_id)

    async def run_turn(self, inbound: Inbound, chat_id: int, update_id: int) -> None:
        key = progress_key(update_id)
        # One update at a time: a re-delivery racing its original must not send twice.
        async with self.redis.lock(f"ms:tg:update:{update_id}", timeout=120, blocking_timeout=30):
            marker = await self.redis.get(key)
            if marker == DONE:
                return
            turn = await self.pipeline.handle(inbound)
            progress = Progress(key, int(marker) if marker else 0)
            if turn.duplicate:
                log.info("telegram re-delivery", update_id=update_id, resend=len(turn.messages) - progress.sent)
            try:
                await self.sender.deliver(chat_id, turn.messages, await self.language(inbound.key.user_id), progress)
            except TelegramForbiddenError:
                # Blocked the bot: nothing can be sent, nothing to retry.
                await self.unreachable.mark(inbound.key.user_id)
                log.info("telegram resident unreachable", update_id=update_id)
            await self.redis.set(key, DONE, ex=PROGRESS_TTL_S)

    async def language(self, user_id: str) -> str:
        return (await self.pipeline.snapshot(ConversationKey(tin.CHANNEL, user_id))).state.lang

    async def _transcribe(self, message: Message, inbound: Inbound) -> Inbound:
        voice = message.voice
        assert voice is not None
        if voice.file_size is not None and voice.file_size > MAX_VOICE_BYTES:
            log.info("voice too large to transcribe", size=voice.file_size)
            return inbound
        try:
            buffer = io.BytesIO()
            await self.bot.download(voice.file_id, destination=buffer)
        except (TelegramAPIError, OSError) as exc:
            log.warning("voice download failed", error=type(exc).__name__)
            return inbound
        lang = inbound.language_hint or await self.language(inbound.key.user_id)
        text = await self.speech.transcribe(buffer.getvalue(), voice.mime_type or "audio/ogg", lang)
        if not text:
            return inbound
        return Inbound(
            key=inbound.key,
            message_id=inbound.message_id,
            text=text,
            attachments=inbound.attachments,
            language_hint=inbound.language_hint,
            received_at=inbound.received_at,
        )

    # ---- albums --------------------------------------------------------------------------

    async def _buffer_album(self, message: Message, update_id: int) -> None:
        inbound = tin.from_message(message, update_id)
        assert inbound is not None and message.media_group_id is not None
        item = {
            "update_id": update_id,
            "user_id": inbound.key.user_id,
            "chat_id": message.chat.id,
            "lang": inbound.language_hint,
            "text": inbound.text,
            "attachments": [a.to_dict() for a in inbound.attachments],
        }
        outcome = await self.albums.add(message.media_group_id, update_id, item)
        if outcome == "late":
            await self.run_turn(inbound, message.chat.id, update_id)

    async def _flush_album(self, group: str, items: list[dict[str, Any]]) -> None:
        first = items[0]
        attachments = tuple(Attachment.from_dict(a) for item in items for a in item["attachments"])
        inbound = Inbound(
            key=ConversationKey(tin.CHANNEL, str(first["user_id"])),
            message_id=tin.message_id_of(int(first["update_id"])),
            text="\n".join(str(i["text"]) for i in items if i["text"]),
            attachments=tuple(a for a in attachments if a.kind == AttachmentKind.IMAGE),
            language_hint=first["lang"],
        )
        await self.run_turn(inbound, int(first["chat_id"]), int(first["update_id"]))

    # ---- webhook -------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not self.webhook_secret or not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            return web.json_response({"error": "bad secret token"}, status=401)
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.bot})
        except (ValueError, ValidationError):
            return web.json_response({"error": "not a Telegram update"}, status=400)
        # Answer only after the update was handled: a non-2xx makes Telegram deliver it again.
        try:
            await self.feed(update)
        except LockTimeout:
            raise  # the app's middleware answers 503: busy, retry
        except Exception:
            log.exception("telegram update failed; Telegram will deliver it again", update_id=update.update_id)
            return web.json_response({"error": "update not handled"}, status=500)
        return web.Response(status=200)
