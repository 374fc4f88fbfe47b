"""A local Telegram Bot API server on 127.0.0.1 for tests, plus builders of real Update JSON.

It answers like https://core.telegram.org/bots/api: `{"ok": true, "result": ...}` on success,
`{"ok": false, "error_code", "description", "parameters": {"retry_after"}}` on errors. It
records every call, serves files (getFile + /file/bot<token>/<path>), queues updates for
getUpdates (long polling with offset confirmation) and can be told to fail a method with 429,
403 or anything else. Point aiogram at it with TELEGRAM_API_BASE = `server.base`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 123456
TOKEN = f"{BOT_ID}:TEST-token-for-the-local-server"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    ok: bool = True  # False when this server answered with an error


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None
    times: int
    after: int  # let this many calls succeed first


@dataclass
class LocalBotApi:
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # file_id → content
    _failures: dict[str, list[Failure]] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _runner: web.AppRunner | None = None
    base: str = ""

    async def start(self) -> LocalBotApi:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = runner_port(self._runner)
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- test controls -------------------------------------------------------------------

    def fail(
        self, method: str, status: int, description: str, retry_after: int | None = None, times: int = 1, after: int = 0
    ) -> None:
        """After `after` more successful calls, the next `times` calls of `method` fail so."""
        self._failures.setdefault(method, []).append(Failure(status, description, retry_after, times, after))

    def queue(self, *updates: dict[str, Any]) -> None:
        """Updates for getUpdates (long polling)."""
        self._updates.extend(updates)
        self._arrived.set()

    def pending(self) -> list[int]:
        return [u["update_id"] for u in self._updates]

    def of(self, *methods: str) -> list[Call]:
        return [c for c in self.calls if c.method in methods and c.ok]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages sent (sendMessage / sendPhoto), optionally to one chat."""
        return [
            c for c in self.of("sendMessage", "sendPhoto") if chat_id is None or int(c.params["chat_id"]) == chat_id
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.sent(chat_id)]

    # ---- the API -------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            raw.update(await request.json())
        elif request.can_read_body:
            raw.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(value, str) and value[:1] in "[{":
                params[key] = json.loads(value)
            elif value in ("true", "false"):
                params[key] = value == "true"
            else:
                params[key] = value
        return params

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        failures = self._failures.get(method)
        if failures and failures[0].after > 0:
            failures[0].after -= 1
        elif failures:
            failure = failures[0]
            failure.times -= 1
            if failure.times <= 0:
                failures.pop(0)
            call.ok = False
            return _error(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result = await handler(params)
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].removeprefix("voice/")
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Minsheng"},
            **content,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    async def _m_getMe(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Minsheng", "username": "minsheng_test_bot"}

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params.get("text", ""))
        if not text.strip():
            raise web.HTTPBadRequest(
                text=json.dumps({"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}),
                content_type="application/json",
            )
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise web.HTTPBadRequest(
                text=json.dumps({"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}),
                content_type="application/json",
            )
        return self._message(params, text=text)

    async def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = {"file_id": str(params["photo"]), "file_unique_id": "u", "width": 800, "height": 600}
        return self._message(params, photo=[photo])

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, text="(edited)")

    async def _m_answerCallbackQuery(self, _: dict[str, Any]) -> bool:
        return True

    async def _m_setMyCommands(self, _: dict[str, Any]) -> bool:
        return True

    async def _m_setWebhook(self, _: dict[str, Any]) -> bool:
        return True

    async def _m_deleteWebhook(self, _: dict[str, Any]) -> bool:
        return True

    async def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params["file_id"])
        if file_id not in self.files:
            raise web.HTTPBadRequest(
                text=json.dumps({"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}),
                content_type="application/json",
            )
        size = len(self.files[file_id])
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size, "file_path": f"voice/{file_id}"}

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0) or 0)
        # Calling with an offset confirms every update before it: Telegram forgets them.
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout", 0) or 0)
        if not self._updates and timeout:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except TimeoutError:
                return []
        limit = int(params.get("limit", 100) or 100)
        return self._updates[:limit]


def runner_port(runner: web.AppRunner) -> int:
    """The port the OS gave a runner's site bound to port 0."""
    (address,) = runner.addresses
    port: int = address[1]
    return port


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


# ---- Update JSON, shaped as Telegram sends it ----------------------------------------------


@dataclass
class TgUser:
    id: int
    first_name: str = "Anna"
    language_code: str | None = "en"
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def json(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.first_name}

    def message(self, update_id: int, **content: Any) -> dict[str, Any]:
        message = {"message_id": next(self._ids), "date": int(time.time()), "chat": self.chat(), "from": self.json()}
        return {"update_id": update_id, "message": {**message, **content}}

    def text(self, update_id: int, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.message(update_id, **content)

    def press(self, update_id: int, data: str) -> dict[str, Any]:
        query = {
            "id": f"cb{update_id}",
            "from": self.json(),
            "chat_instance": "ci-1",
            "data": data,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": self.chat(),
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Minsheng"},
                "text": "…",
            },
        }
        return {"update_id": update_id, "callback_query": query}

    def photo(self, update_id: int, file_id: str, group: str | None = None, caption: str = "") -> dict[str, Any]:
        sizes = [
            {"file_id": f"{file_id}-s", "file_unique_id": f"{file_id}s", "width": 90, "height": 67, "file_size": 1200},
            {"file_id": file_id, "file_unique_id": f"{file_id}x", "width": 1280, "height": 960, "file_size": 98000},
            {"file_id": f"{file_id}-m", "file_unique_id": f"{file_id}m", "width": 320, "height": 240,
             "file_size": 9000},
        ]
        content: dict[str, Any] = {"photo": sizes}
        if group:
            content["media_group_id"] = group
        if caption:
            content["caption"] = caption
        return self.message(update_id, **content)

    def contact(self, update_id: int, phone: str, own: bool = True) -> dict[str, Any]:
        contact: dict[str, Any] = {"phone_number": phone, "first_name": self.first_name}
        if own:
            contact["user_id"] = self.id
        return self.message(update_id, contact=contact)

    def location(self, update_id: int, latitude: float, longitude: float) -> dict[str, Any]:
        return self.message(update_id, location={"latitude": latitude, "longitude": longitude})

    def voice(self, update_id: int, file_id: str, size: int) -> dict[str, Any]:
        voice = {"file_id": file_id, "file_unique_id": f"u{file_id}", "duration": 3, "mime_type": "audio/ogg",
                 "file_size": size}
        return self.message(update_id, voice=voice)

    def blocked(self, update_id: int, status: str = "kicked") -> dict[str, Any]:
        change = {
            "chat": self.chat(),
            "from": self.json(),
            "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": {"id": BOT_ID, "is_bot": True, "first_name": "M"}},
            "new_chat_member": {"status": status, "user": {"id": BOT_ID, "is_bot": True, "first_name": "M"},
                                **({"until_date": 0} if status == "kicked" else {})},
        }
        return {"update_id": update_id, "my_chat_member": change}
