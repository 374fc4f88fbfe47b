"""Staff sessions and cross-site protection.

The session cookie is an opaque random token (HttpOnly, SameSite=Strict, Path=/staff); Redis keeps
only its hash. Every state-changing request must come from our own origin (Origin, else Referer)
and carry the session's CSRF token; any request a browser marks as cross-site is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from redis.asyncio import Redis

COOKIE = "ms_staff"
LOGIN_COOKIE = "ms_staff_login"  # login-form CSRF token (no session yet)
PREFIX = "ms:staff:session:"
FAILS = "ms:staff:login-fails:"
MAX_FAILS = 10  # per username per quarter hour


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    username: str
    name: str
    unit: str
    csrf: str


class Sessions:
    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def create(self, username: str, name: str, unit: str) -> Session:
        session = Session(secrets.token_urlsafe(32), username, name, unit, secrets.token_urlsafe(24))
        fields = {"username": username, "name": name, "unit": unit, "csrf": session.csrf}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(PREFIX + _digest(session.token), mapping=fields)  # type: ignore[arg-type]
            pipe.expire(PREFIX + _digest(session.token), self.ttl_s)
            await pipe.execute()
        return session

    async def get(self, token: str | None) -> Session | None:
        if not token or len(token) > 100:
            return None
        raw = await self.redis.hgetall(PREFIX + _digest(token))
        if not raw:
            return None
        h = {_s(k): _s(v) for k, v in raw.items()}
        return Session(token, h["username"], h.get("name", ""), h.get("unit", ""), h["csrf"])

    async def drop(self, token: str) -> None:
        await self.redis.delete(PREFIX + _digest(token))

    async def too_many_failures(self, username: str) -> bool:
        return int(await self.redis.get(FAILS + username) or 0) >= MAX_FAILS

    async def failed(self, username: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(FAILS + username)
            pipe.expire(FAILS + username, 900)
            await pipe.execute()


def set_cookie(response: web.StreamResponse, name: str, value: str, secure: bool, max_age: int | None) -> None:
    response.set_cookie(name, value, path="/staff", httponly=True, samesite="Strict", secure=secure, max_age=max_age)


def own_origin(request: web.Request, public_url: str) -> str:
    if public_url:
        parts = urlsplit(public_url)
        return f"{parts.scheme}://{parts.netloc}"
    return f"{request.scheme}://{request.host}"


def cross_site(request: web.Request, public_url: str) -> bool:
    """True when the browser says the request comes from another site, or a state-changing
    request does not prove it comes from our own origin."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is None and request.method not in ("GET", "HEAD"):
        referer = urlsplit(request.headers.get("Referer", ""))
        origin = f"{referer.scheme}://{referer.netloc}" if referer.netloc else None
    if origin is None:
        return request.method not in ("GET", "HEAD")
    return origin != own_origin(request, public_url)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
