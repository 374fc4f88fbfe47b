"""A local WeChat: the API server (tokens, messages, media, menu, QR codes) and residents who
post real signed — and in safe mode encrypted — XML to the bot's webhook.

The API server enforces what the real one does and we rely on: stable_token issuing (and
force_refresh), 40001 for an unknown token, the 48-hour customer-service window after a
resident's last message (45015) and its 5 messages (45047). It can be told to fail.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from tests.support.app import serve

APP_ID = "wx0123456789abcdef"
APP_SECRET = "app-secret-for-tests"
TOKEN = "token-for-tests"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_minsheng_test"
WINDOW_S = 48 * 3600


@dataclass
class Failure:
    errcode: int = 0
    status: int = 200
    times: int = 1


@dataclass
class WeChatApiServer:
    clock_offset: float = 0.0
    tokens: list[str] = field(default_factory=list)
    token_calls: list[dict[str, Any]] = field(default_factory=list)
    custom: list[dict[str, Any]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    subscribes: list[dict[str, Any]] = field(default_factory=list)
    menus: list[dict[str, Any]] = field(default_factory=list)
    qrcodes: list[str] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    subscribed: set[str] = field(default_factory=set)  # who authorised a subscribe message
    last_wrote: dict[str, float] = field(default_factory=dict)
    sent_since: dict[str, int] = field(default_factory=dict)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    stt_text: str = ""
    stt_calls: list[bytes] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def now(self) -> float:
        return time.time() + self.clock_offset

    def user_wrote(self, openid: str) -> None:
        """What the platform records when a resident sends something: the window opens."""
        self.last_wrote[openid] = self.now()
        self.sent_since[openid] = 0

    def fail(self, path: str, errcode: int = 0, status: int = 200, times: int = 1) -> None:
        self.failures.setdefault(path, []).append(Failure(errcode, status, times))

    def texts_to(self, openid: str) -> list[str]:
        out = []
        for m in self.custom:
            if m["touser"] != openid:
                continue
            if m["msgtype"] == "text":
                out.append(m["text"]["content"])
            elif m["msgtype"] == "msgmenu":
                out.append(m["msgmenu"]["head_content"] + "\n" + "\n".join(i["content"] for i in m["msgmenu"]["list"]))
        return out

    # ---- the HTTP surface --------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/cgi-bin/stable_token", self._stable_token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom)
        app.router.add_post("/cgi-bin/message/template/send", self._template)
        app.router.add_post("/cgi-bin/message/subscribe/bizsend", self._subscribe)
        app.router.add_get("/cgi-bin/media/get", self._media)
        app.router.add_post("/cgi-bin/menu/create", self._menu)
        app.router.add_post("/cgi-bin/qrcode/create", self._qrcode)
        app.router.add_post("/stt", self._stt)
        return app

    def _injected(self, request: web.Request) -> web.Response | None:
        queue = self.failures.get(request.path)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        if failure.status != 200:
            return web.Response(status=failure.status, text="injected failure")
        return web.json_response({"errcode": failure.errcode, "errmsg": "injected"})

    def _authorised(self, request: web.Request) -> web.Response | None:
        injected = self._injected(request)
        if injected is not None:
            return injected
        if not self.tokens or request.query.get("access_token") != self.tokens[-1]:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        return None

    async def _stable_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.token_calls.append(body)
        injected = self._injected(request)
        if injected is not None:
            return injected
        if body.get("appid") != APP_ID or body.get("secret") != APP_SECRET:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        if not self.tokens or body.get("force_refresh"):
            self.tokens.append(f"token-{next(self._counter)}")
        return web.json_response({"access_token": self.tokens[-1], "expires_in": 7200})

    async def _custom(self, request: web.Request) -> web.Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        body = await request.json()
        openid = body["touser"]
        wrote = self.last_wrote.get(openid)
        if wrote is None or self.now() - wrote > WINDOW_S:
            return web.json_response({"errcode": 45015, "errmsg": "response out of time limit"})
        if self.sent_since.get(openid, 0) >= 5:
            return web.json_response({"errcode": 45047, "errmsg": "out of response count limit"})
        self.sent_since[openid] = self.sent_since.get(openid, 0) + 1
        self.custom.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _template(self, request: web.Request) -> web.Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        self.templates.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": next(self._counter)})

    async def _subscribe(self, request: web.Request) -> web.Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        body = await request.json()
        if body["touser"] not in self.subscribed:
            return web.json_response({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
        self.subscribed.discard(body["touser"])  # one authorisation, one message
        self.subscribes.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _media(self, request: web.Request) -> web.Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        found = self.media.get(request.query.get("media_id", ""))
        if found is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=found[0], content_type=found[1])

    async def _menu(self, request: web.Request) -> web.Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        self.menus.append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _qrcode(self, request: web.Request) -> web.Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        body = await request.json()
        assert body["action_name"] == "QR_LIMIT_STR_SCENE"
        scene = body["action_info"]["scene"]["scene_str"]
        self.qrcodes.append(scene)
        return web.json_response({"ticket": f"ticket-{scene}", "url": f"http://weixin.qq.com/q/{len(self.qrcodes)}"})

    async def _stt(self, request: web.Request) -> web.Response:
        self.stt_calls.append(await request.read())
        return web.json_response({"text": self.stt_text})


@asynccontextmanager
async def wechat_api() -> AsyncIterator[tuple[WeChatApiServer, str]]:
    server = WeChatApiServer()
    async with serve(server.app()) as base:
        yield server, base


# ---- a resident on the WeChat app ----------------------------------------------------------


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    signature: str = signer.signature
    return signature


def message_xml(fields: dict[str, str]) -> str:
    def node(name: str, value: str) -> str:
        return f"<{name}>{value}</{name}>" if value.isdigit() else f"<{name}><![CDATA[{value}]]></{name}>"

    return "<xml>" + "".join(node(k, v) for k, v in fields.items()) + "</xml>"


@dataclass
class Reply:
    status: int
    body: str
    fields: dict[str, str]

    @property
    def text(self) -> str:
        return self.fields.get("Content", "")


class WeChatResident:
    """Posts what the WeChat platform would post for one resident, and reads the reply."""

    _ids = itertools.count(10_000_000_000)

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base: str,
        openid: str,
        server: WeChatApiServer | None = None,
        mode: str = "safe",
        app_id: str = APP_ID,
        token: str = TOKEN,
    ) -> None:
        self.session = session
        self.url = f"{base}/wechat"
        self.openid = openid
        self.server = server
        self.mode = mode
        self.crypto = WeChatCrypto(token, AES_KEY, app_id)
        self.token = token

    def fields(self, msg_type: str, **extra: str) -> dict[str, str]:
        base = {
            "ToUserName": ACCOUNT,
            "FromUserName": self.openid,
            "CreateTime": str(int(time.time())),
            "MsgType": msg_type,
        }
        base.update(extra)
        if msg_type != "event" and "MsgId" not in base:
            base["MsgId"] = str(next(self._ids))
        return base

    def envelope(self, fields: dict[str, str]) -> tuple[dict[str, str], bytes]:
        """Query string and body, as WeChat would send them in this resident's mode."""
        timestamp, nonce = str(int(time.time())), f"n{next(self._ids)}"
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                 "openid": self.openid}
        plain = message_xml(fields)
        if self.mode == "plain":
            return query, plain.encode()
        sealed = self.crypto.encrypt_message(plain, nonce, timestamp)
        encrypt = fromstring(sealed).findtext("Encrypt")
        query.update(encrypt_type="aes", msg_signature=sign(self.token, timestamp, nonce, encrypt))
        if self.mode == "compatible":
            return query, plain.replace("</xml>", f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>").encode()
        to = f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        return query, f"<xml>{to}<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()

    async def post(self, fields: dict[str, str]) -> Reply:
        if self.server is not None and (fields["MsgType"] != "event" or fields.get("Event") != "unsubscribe"):
            self.server.user_wrote(self.openid)
        query, body = self.envelope(fields)
        return await self.post_raw(query, body)

    async def post_raw(self, query: dict[str, str], body: bytes) -> Reply:
        async with self.session.post(self.url, params=query, data=body) as resp:
            text = await resp.text()
            status = resp.status
        parsed: dict[str, str] = {}
        if status == 200 and text.startswith("<xml>"):
            root = fromstring(text)
            if root.find("Encrypt") is not None:
                signature = root.findtext("MsgSignature") or ""
                inner = self.crypto.decrypt_message(
                    {"Encrypt": root.findtext("Encrypt")}, signature, root.findtext("TimeStamp"), root.findtext("Nonce")
                )
                root = fromstring(inner)
            parsed = {child.tag: child.text or "" for child in root}
        return Reply(status, text, parsed)

    async def say(self, text: str, **extra: str) -> Reply:
        return await self.post(self.fields("text", Content=text, **extra))

    async def event(self, event: str, key: str = "") -> Reply:
        extra = {"Event": event}
        if key:
            extra["EventKey"] = key
        return await self.post(self.fields("event", **extra))


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
