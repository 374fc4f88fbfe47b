"""Pushing to a resident outside a reply, within WeChat's rules.

1. Customer-service message, inside the 48 hours after the resident's last message and at
   most 5 of them per such window (WeChat answers 45015 / 45047 beyond that).
2. Otherwise a template message (WECHAT_TEMPLATE_ID), then a subscribe message.
3. Otherwise the push is HELD in Redis and delivered when the resident next writes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bot import logs
from connectors.base import Delivery, DeliveryResult
from connectors.wechat.api import ApiError, WeChatApi
from connectors.wechat.inbound import CHANNEL
from connectors.wechat.reply import custom_payloads, pack, texts_of
from dialogs.messages import ConversationKey, Outbound

log = logs.get("minsheng.wechat.channel")

WINDOW_S = 48 * 3600
WINDOW_MARGIN_S = 120  # don't start a send that the platform may see as just outside
PER_WINDOW = 5
CLOSED = frozenset({45015, 45047})  # out of the window / out of its message count
GONE = frozenset({43004, 43019})  # unsubscribed / blocked us
FIELD_MAX = 200


def seen_key(openid: str) -> str:
    return f"ms:wechat:seen:{openid}"


def count_key(openid: str) -> str:
    return f"ms:wechat:sent:{openid}"


def held_key(openid: str) -> str:
    return f"ms:wechat:held:{openid}"


def gone_key(openid: str) -> str:
    return f"ms:wechat:unreachable:{openid}"


def template_data(text: str, fields: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """The text's lines over the template's fields; the last field takes what remains."""
    lines = [line for line in text.split("\n") if line.strip()]
    data: dict[str, dict[str, str]] = {}
    for n, name in enumerate(fields):
        value = "\n".join(lines[n:]) if n == len(fields) - 1 else (lines[n] if n < len(lines) else "")
        data[name] = {"value": value[:FIELD_MAX]}
    return data


class WeChatChannel:
    """connectors.base.OutputChannel for WeChat."""

    channel = CHANNEL

    def __init__(
        self,
        api: WeChatApi,
        redis: Redis,
        secret: str,
        template_id: str = "",
        template_fields: tuple[str, ...] = ("first", "keyword1", "keyword2", "remark"),
        subscribe_id: str = "",
        subscribe_fields: tuple[str, ...] = ("thing1", "thing2"),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api = api
        self.redis = redis
        self.secret = secret
        self.template_id = template_id
        self.template_fields = template_fields
        self.subscribe_id = subscribe_id
        self.subscribe_fields = subscribe_fields
        self.clock = clock

    def ref(self, openid: str) -> str:
        return logs.resident_ref(self.secret, ConversationKey(CHANNEL, openid))

    # ---- what the webhook tells us -----------------------------------------------------

    async def opened(self, openid: str) -> None:
        """The resident just wrote: a new 48-hour window with a fresh count of 5."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(seen_key(openid), repr(self.clock()), ex=WINDOW_S)
            pipe.delete(count_key(openid), gone_key(openid))
            await pipe.execute()

    async def unfollowed(self, openid: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(gone_key(openid), "1")
            pipe.delete(seen_key(openid), count_key(openid))
            await pipe.execute()

    async def take_held(self, openid: str) -> list[list[Outbound]]:
        """Held pushes, oldest first, removed in the same transaction (each delivered once)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrange(held_key(openid), 0, -1)
            pipe.delete(held_key(openid))
            raw, _ = await pipe.execute()
        return [[Outbound.from_dict(m) for m in json.loads(item)] for item in raw]

    # ---- sending -----------------------------------------------------------------------

    async def send(self, user_id: str, messages: list[Outbound]) -> DeliveryResult:
        if await self.redis.exists(gone_key(user_id)):
            return DeliveryResult(Delivery.UNREACHABLE, detail="unsubscribed")
        result = await self.send_custom(user_id, custom_payloads(user_id, messages, menus=False), pushing=True)
        if result is not None:
            return result
        for kind, template, fields in (
            ("template", self.template_id, self.template_fields),
            ("subscribe", self.subscribe_id, self.subscribe_fields),
        ):
            if not template:
                continue
            result = await self._templated(kind, user_id, template, fields, messages)
            if result is not None:
                return result
        await self.redis.rpush(held_key(user_id), json.dumps([m.to_dict() for m in messages], ensure_ascii=False))
        log.info("push held", ref=self.ref(user_id))
        return DeliveryResult(Delivery.HELD, detail="outside the window, no template")

    async def reply(self, openid: str, messages: list[Outbound]) -> DeliveryResult:
        """A turn's late answer: the resident just wrote, so the window is normally open."""
        result = await self.send_custom(openid, custom_payloads(openid, messages))
        return result if result is not None else await self.send(openid, messages)

    async def send_custom(
        self, openid: str, payloads: list[dict[str, Any]], pushing: bool = False
    ) -> DeliveryResult | None:
        """Customer-service messages; None when the window or its count forbids them."""
        if not payloads:
            return DeliveryResult(Delivery.SENT)
        if pushing and len(payloads) > 1:
            # A push spends as few of the window's 5 messages as it can: one packed text.
            texts = pack(self._texts(payloads))
            payloads = [{"touser": openid, "msgtype": "text", "text": {"content": t}} for t in texts]
        if not await self._window_allows(openid, len(payloads)):
            return None
        for n, payload in enumerate(payloads):
            try:
                await self.api.send_custom(payload)
            except ApiError as exc:
                if exc.errcode in CLOSED and n == 0:
                    log.info("window closed by platform", ref=self.ref(openid), errcode=exc.errcode)
                    await self.redis.set(count_key(openid), PER_WINDOW, keepttl=True)
                    return None
                return await self._failure(openid, "custom", exc)
            await self.redis.incr(count_key(openid))
            await self.redis.expire(count_key(openid), WINDOW_S)
        log.info("sent", ref=self.ref(openid), how="custom", count=len(payloads))
        return DeliveryResult(Delivery.SENT)

    @staticmethod
    def _texts(payloads: list[dict[str, Any]]) -> list[str]:
        out: list[str] = []
        for payload in payloads:
            if payload["msgtype"] == "text":
                out.append(payload["text"]["content"])
            elif payload["msgtype"] == "msgmenu":
                out.append(payload["msgmenu"]["head_content"])
        return out

    async def _window_allows(self, openid: str, count: int) -> bool:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(seen_key(openid))
            pipe.get(count_key(openid))
            seen, sent = await pipe.execute()
        if seen is None or self.clock() - float(seen) > WINDOW_S - WINDOW_MARGIN_S:
            return False
        return int(sent or 0) + count <= PER_WINDOW

    async def _templated(
        self, kind: str, openid: str, template: str, fields: tuple[str, ...], messages: list[Outbound]
    ) -> DeliveryResult | None:
        text = "\n".join(texts_of(messages))
        payload = {"touser": openid, "template_id": template, "data": template_data(text, fields)}
        try:
            if kind == "template":
                await self.api.send_template(payload)
            else:
                await self.api.send_subscribe(payload)
        except ApiError as exc:
            if exc.errcode in GONE or exc.transient:
                return await self._failure(openid, kind, exc)
            # Not authorised for this resident (e.g. no subscription): try the next way.
            log.info("fallback refused", ref=self.ref(openid), how=kind, errcode=exc.errcode)
            return None
        log.info("sent", ref=self.ref(openid), how=kind)
        return DeliveryResult(Delivery.SENT)

    async def _failure(self, openid: str, how: str, exc: ApiError) -> DeliveryResult:
        log.warning("send failed", ref=self.ref(openid), how=how, errcode=exc.errcode, detail=exc.detail)
        if exc.errcode in GONE:
            await self.unfollowed(openid)
            return DeliveryResult(Delivery.UNREACHABLE, detail=str(exc.errcode))
        if exc.transient:
            return DeliveryResult(Delivery.RETRY, retry_after=30.0, detail=str(exc.errcode or exc.detail))
        return DeliveryResult(Delivery.FAILED, detail=str(exc.errcode))
