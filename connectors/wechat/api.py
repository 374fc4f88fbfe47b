"""A thin async client for the WeChat API (wechatpy's client is synchronous: not on our loop).

The access_token is shared by every worker through Redis. One refresher at a time (a Redis
lock) asks `stable_token`; the cached token expires from Redis a margin before WeChat's
expiry, so it is renewed before it goes stale. 40001/42001/40014 trigger one forced refresh
and one retry.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bot import logs

log = logs.get("minsheng.wechat.api")

TOKEN_KEY = "ms:wechat:token"
TOKEN_LOCK = "ms:wechat:token:lock"
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
TRANSIENT_ERRORS = frozenset({-1, 45009})  # system busy; API call quota reached


class ApiError(Exception):
    """A failed API call: `errcode` from WeChat (or 0 for HTTP/transport failures)."""

    def __init__(self, errcode: int, detail: str, transient: bool = False) -> None:
        super().__init__(f"{errcode}: {detail}")
        self.errcode = errcode
        self.detail = detail
        self.transient = transient or errcode in TRANSIENT_ERRORS


class WeChatApi:
    def __init__(
        self,
        redis: Redis,
        app_id: str,
        secret: str,
        base: str = "https://api.weixin.qq.com",
        timeout_s: float = 5.0,
        margin_s: int = 300,
    ) -> None:
        self.redis = redis
        self.app_id = app_id
        self.secret = secret
        self.base = base.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.margin_s = margin_s
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # ---- access token ------------------------------------------------------------------

    async def token(self, stale: str | None = None) -> str:
        """The shared token; `stale` is one WeChat just refused, to be replaced (once)."""
        cached = await self._cached()
        if cached and cached != stale:
            return cached
        async with self.redis.lock(TOKEN_LOCK, timeout=30, sleep=0.05, blocking_timeout=15):
            # Another worker may have refreshed while we waited for the lock.
            cached = await self._cached()
            if cached and cached != stale:
                return cached
            return await self._refresh(force=stale is not None)

    async def _cached(self) -> str:
        raw = await self.redis.get(TOKEN_KEY)
        return raw.decode() if isinstance(raw, bytes) else str(raw or "")

    async def _refresh(self, force: bool) -> str:
        body = {"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret, "force_refresh": force}
        data = await self._request("POST", "/cgi-bin/stable_token", json_body=body)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise ApiError(int(data.get("errcode", 0) or 0), "no access_token in stable_token answer")
        expires = int(data.get("expires_in", 7200))
        await self.redis.set(TOKEN_KEY, token, ex=max(60, expires - self.margin_s))
        log.info("access token refreshed", forced=force, expires_in=expires)
        return token

    # ---- calls -------------------------------------------------------------------------

    async def call(
        self, method: str, path: str, json_body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """An authenticated call; raises ApiError on a non-zero errcode."""
        token = await self.token()
        for attempt in (1, 2):
            data = await self._request(method, path, json_body, {**(params or {}), "access_token": token})
            code = int(data.get("errcode", 0) or 0)
            if code in TOKEN_ERRORS and attempt == 1:
                log.warning("access token refused, refreshing", errcode=code)
                token = await self.token(stale=token)
                continue
            if code:
                raise ApiError(code, str(data.get("errmsg", "")))
            return data
        raise AssertionError("unreachable")

    async def _request(
        self, method: str, path: str, json_body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        body = json.dumps(json_body, ensure_ascii=False).encode() if json_body is not None else None
        try:
            async with self.session().request(
                method, self.base + path, params=params, data=body, headers={"Content-Type": "application/json"}
            ) as resp:
                if resp.status >= 500:
                    raise ApiError(0, f"HTTP {resp.status}", transient=True)
                if resp.status != 200:
                    raise ApiError(0, f"HTTP {resp.status}")
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ApiError(0, type(exc).__name__, transient=True) from exc
        if not isinstance(data, dict):
            raise ApiError(0, "answer is not a JSON object")
        return data

    async def raw(self, path: str, params: dict[str, str]) -> tuple[bytes, str]:
        """A binary download (media/get): bytes and content type; JSON answers are errors."""
        token = await self.token()
        for attempt in (1, 2):
            try:
                async with self.session().get(self.base + path, params={**params, "access_token": token}) as resp:
                    if resp.status != 200:
                        raise ApiError(0, f"HTTP {resp.status}", transient=resp.status >= 500)
                    mime = resp.content_type
                    content = await resp.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise ApiError(0, type(exc).__name__, transient=True) from exc
            if mime not in ("application/json", "text/plain"):
                return content, mime
            data = json.loads(content or b"{}")
            code = int(data.get("errcode", 0) or 0)
            if code in TOKEN_ERRORS and attempt == 1:
                token = await self.token(stale=token)
                continue
            raise ApiError(code, str(data.get("errmsg", "")))
        raise AssertionError("unreachable")

    # ---- endpoints ---------------------------------------------------------------------

    async def send_custom(self, payload: dict[str, Any]) -> None:
        await self.call("POST", "/cgi-bin/message/custom/send", payload)

    async def send_template(self, payload: dict[str, Any]) -> None:
        await self.call("POST", "/cgi-bin/message/template/send", payload)

    async def send_subscribe(self, payload: dict[str, Any]) -> None:
        await self.call("POST", "/cgi-bin/message/subscribe/bizsend", payload)

    async def media(self, media_id: str) -> tuple[bytes, str]:
        return await self.raw("/cgi-bin/media/get", {"media_id": media_id})

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self.call("POST", "/cgi-bin/menu/create", menu)

    async def create_qrcode(self, scene: str) -> dict[str, Any]:
        body = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}
        return await self.call("POST", "/cgi-bin/qrcode/create", body)
