"""Telegram update → normalized Inbound. Pure translation: no I/O, no dialog decisions.

Commands become what the engine already understands: /start → FOLLOW (with a deep-link
`point_<scene>` → SCAN with the collection point's scene), /help and /status → the menu's
"howto" and "mine", /cancel → the catalogue's cancel word, /lang → a language's name.
"""

from __future__ import annotations

import re

from aiogram.types import Contact, Location, Message, PhotoSize, User, Venue, Voice

from dialogs import catalog
from dialogs.messages import (
    Attachment,
    AttachmentKind,
    ConversationKey,
    EventKind,
    Inbound,
    PlatformEvent,
)

CHANNEL = "telegram"
SCENE_PREFIX = "point_"
# Deep-link payloads are at most 64 characters of A-Z a-z 0-9 _ - (Telegram's own rule).
_SCENE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.DOTALL)
# What /lang sends: the name of the language to switch to (as a resident would type it).
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def key_of(user: User) -> ConversationKey:
    return ConversationKey(CHANNEL, str(user.id))


def language_hint(code: str | None) -> str | None:
    """Telegram's client language as a hint: zh* → "zh", anything else → "en"."""
    if not code:
        return None
    return "zh" if code.lower().startswith("zh") else "en"


def message_id_of(update_id: int) -> str:
    return f"tg:{update_id}"


def parse_command(text: str | None) -> tuple[str, str] | None:
    """("start", "point_x") for "/start@minsheng_bot point_x"; None when not a command."""
    match = _COMMAND.match((text or "").strip())
    if match is None:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


def largest_photo(sizes: list[PhotoSize]) -> PhotoSize:
    return max(sizes, key=lambda p: (p.width * p.height, p.file_size or 0))


def photo_attachment(sizes: list[PhotoSize]) -> Attachment:
    photo = largest_photo(sizes)
    return Attachment(AttachmentKind.IMAGE, ref=photo.file_id, mime="image/jpeg")


def international(phone: str) -> str:
    """Telegram sends the resident's own number in international form, often without "+"
    ("8613912345678"); give it its "+" so it reads as a country code, not as digits."""
    digits = re.sub(r"[^\d+]", "", phone)
    if digits.startswith("+") or (len(digits) == 11 and digits.startswith("1")):
        return digits
    return "+" + digits


def contact_attachment(contact: Contact, sender: User) -> Attachment:
    own = contact.user_id is not None and contact.user_id == sender.id
    # Someone else's number is never taken: it is not ours to store.
    meta: dict[str, object] = {"own": own, "phone": international(contact.phone_number) if own else ""}
    return Attachment(AttachmentKind.CONTACT, meta=meta)


def location_attachment(location: Location, venue: Venue | None = None) -> Attachment:
    meta: dict[str, object] = {"latitude": location.latitude, "longitude": location.longitude}
    if venue is not None:
        meta["label"] = venue.title
    return Attachment(AttachmentKind.LOCATION, meta=meta)


def voice_attachment(voice: Voice) -> Attachment:
    return Attachment(
        AttachmentKind.VOICE,
        ref=voice.file_id,
        mime=voice.mime_type or "audio/ogg",
        meta={"duration": voice.duration},
    )


def from_command(base: Inbound, name: str, argument: str, current_lang: str) -> Inbound:
    """A command as the engine's event or words. `current_lang` is the conversation's language."""
    if name == "start":
        if argument.startswith(SCENE_PREFIX) and _SCENE.match(argument):
            scene = argument.removeprefix(SCENE_PREFIX)
            if scene:
                return _with(base, event=PlatformEvent(EventKind.SCAN, {"scene": scene}))
        return _with(base, event=PlatformEvent(EventKind.FOLLOW))
    if name == "help":
        return _with(base, event=PlatformEvent(EventKind.MENU, {"key": "howto"}))
    if name == "status":
        return _with(base, event=PlatformEvent(EventKind.MENU, {"key": "mine"}))
    if name == "cancel":
        return _with(base, text=catalog.words(current_lang, "cancel")[0])
    if name == "lang":
        wanted = argument.lower()[:2]
        if wanted not in LANGUAGE_NAMES:
            wanted = "en" if catalog.lang_of(current_lang) == "zh" else "zh"
        return _with(base, text=LANGUAGE_NAMES[wanted])
    return base  # an unknown command stays text: the engine answers it like any other words


def from_message(message: Message, update_id: int, current_lang: str = "zh") -> Inbound | None:
    """A private message as an Inbound; None when it has no sender (not a resident).

    Voice is returned with its attachment only: the connector adds the transcript.
    """
    sender = message.from_user
    if sender is None:
        return None
    attachments: list[Attachment] = []
    if message.photo:
        attachments.append(photo_attachment(message.photo))
    if message.contact is not None:
        attachments.append(contact_attachment(message.contact, sender))
    if message.location is not None:
        attachments.append(location_attachment(message.location, message.venue))
    if message.voice is not None:
        attachments.append(voice_attachment(message.voice))
    base = Inbound(
        key=key_of(sender),
        message_id=message_id_of(update_id),
        text=message.text or message.caption or "",
        attachments=tuple(attachments),
        language_hint=language_hint(sender.language_code),
    )
    command = parse_command(message.text)
    if command is None:
        return base
    return from_command(base, command[0], command[1], current_lang)


def _with(base: Inbound, text: str = "", event: PlatformEvent | None = None) -> Inbound:
    return Inbound(
        key=base.key,
        message_id=base.message_id,
        text=text,
        event=event,
        language_hint=base.language_hint,
        received_at=base.received_at,
    )
