"""The /wechat webhook: verify, parse, run the turn within WeChat's 5-second rule, answer.

WeChat waits 5 s for an answer and then re-delivers (up to 3 times). A turn that finishes
within the budget (WECHAT_REPLY_BUDGET, default 4 s) is answered by a passive reply; a slower
one gets "success" at once and its answer follows by customer-service message.

Exactly once: a Redis claim per message id records who delivers the answer — "pending" (the
first request's turn is running), "passive" (it answered in its reply), "cs" (its answer goes
by customer-service message). The claim moves only by compare-and-set, so a re-delivery that
finds "pending" hands the delivery to the running turn (→ "cs") and never starts a second turn.
The turn runs as its own task, which a dropped request cannot cancel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any, TypeVar

from aiohttp import web
from redis.asyncio import Redis

from bot import logs
from bot.pipeline import Pipeline, Turn
from bot.speech import SpeechToText
from connectors.wechat import inbound as wx_inbound
from connectors.wechat.api import ApiError, WeChatApi
from connectors.wechat.channel import WeChatChannel
from connectors.wechat.reply import pack, passive_xml, texts_of
from connectors.wechat.verify import Refused, Verifier
from dialogs import catalog
from dialogs.messages import EventKind, Outbound

log = logs.get("minsheng.wechat")

PATH = "/wechat"
PENDING, PASSIVE, CS = b"pending", b"passive", b"cs"
# "pending" expires soon: if the worker running the turn dies, a later re-delivery of WeChat's
# (they come over ~15 s) starts afresh, and the pipeline's record decides whether a turn is
# still due. Settled claims are kept long enough to recognise any late re-delivery.
PENDING_TTL_S = 12
SETTLED_TTL_S = 86400
SUCCESS = "success"
_CAS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""
T = TypeVar("T")


def claim_key(message_id: str) -> str:
    return f"ms:wechat:claim:{message_id}"


class WeChatWebhook:
    def __init__(
        self,
        verifier: Verifier,
        pipeline: Pipeline,
        channel: WeChatChannel,
        api: WeChatApi,
        redis: Redis,
        stt: SpeechToText | None = None,
        budget_s: float = 4.0,
    ) -> None:
        self.verifier = verifier
        self.pipeline = pipeline
        self.channel = channel
        self.api = api
        self.redis = redis
        self.stt = stt
        self.budget_s = budget_s
        self._tasks: set[asyncio.Task[Any]] = set()

    def register(self, app: web.Application) -> None:
        app.router.add_get(PATH, self.verify)
        app.router.add_post(PATH, self.receive)
        app.on_cleanup.append(self._cleanup)

    async def _cleanup(self, _: web.Application) -> None:
        await self.close()

    async def close(self) -> None:
        """Let in-flight turns and late answers finish, then close the API client."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)
        await self.api.close()

    def _spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _cas(self, key: str, old: bytes, new: bytes) -> bool:
        ttl = PENDING_TTL_S if new == PENDING else SETTLED_TTL_S
        return bool(await self.redis.eval(_CAS, 1, key, old, new, ttl))

    # ---- HTTP --------------------------------------------------------------------------

    async def verify(self, request: web.Request) -> web.Response:
        try:
            echo = self.verifier.echo(request.query)
        except Refused as exc:
            log.warning("wechat request refused", status=exc.status, reason=exc.reason, method="GET")
            return web.Response(status=exc.status, text=exc.reason)
        return web.Response(text=echo)

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            parsed = wx_inbound.parse(self.verifier.open(request.query, body))
        except Refused as exc:
            # The reason only: a refused body may be anything, personal data included.
            log.warning("wechat request refused", status=exc.status, reason=exc.reason, size=len(body))
            return web.Response(status=exc.status, text=exc.reason)
        if parsed.inbound is None:
            return web.Response(text=SUCCESS)
        claim = claim_key(parsed.inbound.message_id)
        if await self.redis.set(claim, PENDING, nx=True, ex=PENDING_TTL_S):
            await self._first_sight(parsed)
            return await self._deliver(request, parsed, claim, fresh=True)
        if await self._cas(claim, PENDING, CS):
            # The first delivery is still running (WeChat gave up waiting on it): its task
            # will send the answer by customer-service message.
            return web.Response(text=SUCCESS)
        if await self._cas(claim, PASSIVE, PENDING):
            # We answered, yet WeChat asks again: our reply was lost. The pipeline answers a
            # known message id from its record, without a second turn.
            return await self._deliver(request, parsed, claim, fresh=False)
        return web.Response(text=SUCCESS)

    async def _first_sight(self, parsed: wx_inbound.Parsed) -> None:
        assert parsed.inbound is not None
        event = parsed.inbound.event
        if event is not None and event.kind == EventKind.UNFOLLOW:
            await self.channel.unfollowed(parsed.openid)
        elif parsed.opens_window:
            await self.channel.opened(parsed.openid)

    async def _deliver(
        self, request: web.Request, parsed: wx_inbound.Parsed, claim: str, fresh: bool
    ) -> web.Response:
        task = self._spawn(self._turn(parsed, transcribe=fresh))
        try:
            await asyncio.wait({task}, timeout=self.budget_s)
        except asyncio.CancelledError:
            # The request was dropped: the turn goes on, and its answer by customer service.
            await self._cas(claim, PENDING, CS)
            self._spawn(self._late(parsed, task, fresh))
            raise
        if task.done() and task.exception() is not None:
            await self.redis.delete(claim)  # let WeChat's re-delivery try again
            log.error("wechat turn failed", ref=self.channel.ref(parsed.openid), exc_info=task.exception())
            return web.Response(status=503, text="retry")
        if task.done() and await self._cas(claim, PENDING, PASSIVE):
            return await self._passive(request, parsed, task.result(), fresh)
        await self._cas(claim, PENDING, CS)
        self._spawn(self._late(parsed, task, fresh))
        return web.Response(text=SUCCESS)

    # ---- the turn and its answer -------------------------------------------------------

    async def _turn(self, parsed: wx_inbound.Parsed, transcribe: bool) -> Turn:
        inbound = parsed.inbound
        assert inbound is not None
        if transcribe and parsed.voice_media and self.stt is not None:
            text = await self._transcribe(parsed.openid, parsed.voice_media)
            if text:
                inbound = replace(inbound, text=text)
        return await self.pipeline.handle(inbound)

    async def _transcribe(self, openid: str, media_id: str) -> str | None:
        assert self.stt is not None
        try:
            audio, mime = await self.api.media(media_id)
        except ApiError as exc:
            log.warning("voice download failed", ref=self.channel.ref(openid), errcode=exc.errcode)
            return None
        return await self.stt.transcribe(audio, mime or "audio/amr", "zh")

    async def _held(self, parsed: wx_inbound.Parsed) -> list[str]:
        """Pushes held for this resident, with a line saying how many, as texts."""
        held = await self.channel.take_held(parsed.openid)
        if not held:
            return []
        assert parsed.inbound is not None
        lang = (await self.pipeline.snapshot(parsed.inbound.key)).state.lang
        texts = [catalog.text(lang, "wechat_held_notice", count=len(held))]
        for messages in held:
            texts.extend(texts_of(messages))
        return texts

    async def _passive(
        self, request: web.Request, parsed: wx_inbound.Parsed, turn: Turn, fresh: bool
    ) -> web.Response:
        parts = (await self._held(parsed) if fresh else []) + texts_of(turn.messages)
        packed = pack(parts) if parts else []
        extra = [Outbound(t) for t in packed[1:]] + [Outbound("", image=m.image) for m in turn.messages if m.image]
        if extra:  # a passive reply holds one message: the rest follows by customer service
            self._spawn(self._send_rest(parsed.openid, extra))
        if not packed:
            return web.Response(text=SUCCESS)
        xml = self.verifier.seal(passive_xml(parsed.openid, parsed.account, packed[0]), request.query)
        return web.Response(text=xml, content_type="application/xml")

    async def _late(self, parsed: wx_inbound.Parsed, task: asyncio.Task[Turn], fresh: bool) -> None:
        ref = self.channel.ref(parsed.openid)
        try:
            turn = await task
        except Exception:
            log.exception("wechat turn failed after the reply budget", ref=ref)
            return
        held = [Outbound(t) for t in await self._held(parsed)] if fresh else []
        messages = held + turn.messages
        if not messages:
            return
        result = await self.channel.reply(parsed.openid, messages)
        log.info("late answer", ref=ref, outcome=result.outcome.value, detail=result.detail)

    async def _send_rest(self, openid: str, messages: list[Outbound]) -> None:
        result = await self.channel.reply(openid, messages)
        log.info("reply overflow", ref=self.channel.ref(openid), outcome=result.outcome.value)
