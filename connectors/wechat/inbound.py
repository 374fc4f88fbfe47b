"""WeChat message fields (already verified and parsed) → the normalized Inbound."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.wechat.verify import Refused
from dialogs.messages import Attachment, AttachmentKind, ConversationKey, EventKind, Inbound, PlatformEvent

CHANNEL = "wechat"
MENU_KEYS = frozenset({"suggest", "mine", "campaigns", "howto", "human"})
# What opens (or re-opens) the 48-hour customer-service window, per WeChat's rules.
WINDOW_EVENTS = frozenset({"subscribe", "scan", "click", "scancode_push", "scancode_waitmsg"})
MAX_OPENID = 64


@dataclass(frozen=True, slots=True)
class Parsed:
    """An inbound message plus what the webhook needs around it."""

    inbound: Inbound | None  # None: an event that needs no turn (menu VIEW, template receipts...)
    openid: str
    account: str  # our account's id: the reply's FromUserName
    kind: str  # MsgType, or "event:<event>"
    opens_window: bool
    voice_media: str = ""  # a voice message without recognition: the media to transcribe


def _float(raw: str, name: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise Refused(400, f"bad {name}") from None


def parse(fields: dict[str, str]) -> Parsed:
    openid, account = fields.get("FromUserName", ""), fields.get("ToUserName", "")
    msg_type = fields.get("MsgType", "").lower()
    if not openid or len(openid) > MAX_OPENID or not account or not msg_type:
        raise Refused(400, "missing FromUserName, ToUserName or MsgType")
    created = fields.get("CreateTime", "")
    if not created.isdigit():
        raise Refused(400, "bad CreateTime")
    key = ConversationKey(CHANNEL, openid)
    if msg_type == "event":
        return _event(fields, key, account, created)
    msg_id = fields.get("MsgId", "")
    if not msg_id.isdigit():
        raise Refused(400, "bad MsgId")
    message_id = f"wechat:{msg_id}"
    voice_media = ""
    if msg_type == "text":
        content = fields.get("Content", "")
        menu_id = fields.get("bizmsgmenuid", "")
        if menu_id.startswith("/"):  # a click on a msgmenu item we sent: its id is the payload
            inbound = Inbound(key, message_id, payload=menu_id)
        else:
            inbound = Inbound(key, message_id, text=content)
    elif msg_type == "image":
        url = fields.get("PicUrl", "")
        image = Attachment(AttachmentKind.IMAGE, fields.get("MediaId", ""), "image/jpeg", {"url": url})
        inbound = Inbound(key, message_id, attachments=(image,))
    elif msg_type == "voice":
        media = fields.get("MediaId", "")
        voice = Attachment(AttachmentKind.VOICE, media, f"audio/{fields.get('Format', 'amr').lower()}")
        recognition = fields.get("Recognition", "").strip()
        if not recognition:
            voice_media = media
        inbound = Inbound(key, message_id, text=recognition, attachments=(voice,))
    elif msg_type == "location":
        meta = {
            "latitude": _float(fields.get("Location_X", ""), "Location_X"),
            "longitude": _float(fields.get("Location_Y", ""), "Location_Y"),
            "label": fields.get("Label", ""),
        }
        inbound = Inbound(key, message_id, attachments=(Attachment(AttachmentKind.LOCATION, meta=meta),))
    else:
        # Video, links, mini-program cards: nothing the form can use; the dialog re-asks.
        inbound = Inbound(key, message_id)
    return Parsed(inbound, openid, account, msg_type, opens_window=True, voice_media=voice_media)


def _event(fields: dict[str, str], key: ConversationKey, account: str, created: str) -> Parsed:
    event = fields.get("Event", "").lower()
    event_key = fields.get("EventKey", "")
    # Events have no MsgId: WeChat's advice is to de-duplicate them by sender + time; the event
    # and its key keep two different events of one second (subscribe, then a menu click) apart.
    message_id = f"wechat:ev:{key.user_id}:{created}:{event}:{event_key[:64]}"
    platform: PlatformEvent | None = None
    if event == "subscribe":
        scene = event_key.removeprefix("qrscene_") if event_key.startswith("qrscene_") else ""
        platform = PlatformEvent(EventKind.FOLLOW, {"scene": scene} if scene else {})
    elif event == "scan":
        platform = PlatformEvent(EventKind.SCAN, {"scene": event_key})
    elif event == "click":
        platform = PlatformEvent(EventKind.MENU, {"key": event_key if event_key in MENU_KEYS else ""})
    elif event == "unsubscribe":
        platform = PlatformEvent(EventKind.UNFOLLOW)
    inbound = Inbound(key, message_id, event=platform) if platform else None
    return Parsed(inbound, key.user_id, account, f"event:{event}", opens_window=event in WINDOW_EVENTS)
