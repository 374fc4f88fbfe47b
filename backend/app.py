"""The reference backend's HTTP API (aiohttp), implementing backend/openapi.yaml."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from backend.events import EventSender
from backend.service import Invalid, NotFound, Office
from bot import signing

OFFICE = web.AppKey("office", Office)
SENDER = web.AppKey("event_sender", EventSender)
SPEC = Path(__file__).with_name("openapi.yaml")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def build_backend_app(office: Office, sender: EventSender, secret: str, admin_token: str) -> web.Application:
    """`secret` signs bot↔backend traffic; `admin_token` guards the staff API (empty: disabled)."""

    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotFound as exc:
            return _error(404, f"no suggestion {exc}")
        except Invalid as exc:
            return _error(422, str(exc))

    async def signed_body(request: web.Request) -> dict[str, Any] | web.Response:
        raw = await request.read()
        if not signing.verify(secret, request.headers, raw):
            return _error(401, "bad or missing signature")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "body must be JSON")
        if not isinstance(body, dict):
            return _error(400, "body must be a JSON object")
        return body

    def staff(request: web.Request) -> web.Response | None:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not admin_token or not hmac.compare_digest(given.encode(), admin_token.encode()):
            return _error(401, "staff token required")
        return None

    async def from_bot(request: web.Request) -> tuple[dict[str, Any], str] | web.Response:
        """A signed body and its Idempotency-Key (every call from the bot carries both)."""
        body = await signed_body(request)
        if isinstance(body, web.Response):
            return body
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            return _error(400, "Idempotency-Key header required")
        return body, key

    async def submit(request: web.Request) -> web.Response:
        checked = await from_bot(request)
        if isinstance(checked, web.Response):
            return checked
        body, key = checked
        accepted = await office.submit(body, key)
        return web.json_response(
            {"id": body["id"], "reference": accepted.reference}, status=201 if accepted.created else 200
        )

    async def message(request: web.Request) -> web.Response:
        checked = await from_bot(request)
        if isinstance(checked, web.Response):
            return checked
        body, key = checked
        payload = body.get("body")
        if not isinstance(payload, dict):
            return _error(400, "body.body must be an object")
        created = await office.add_message(request.match_info["id"], key, str(body.get("kind", "")), payload)
        return web.json_response({"stored": True}, status=201 if created else 200)

    async def listing(request: web.Request) -> web.Response:
        if (refused := staff(request)) is not None:
            return refused
        limit = min(int(request.query.get("limit", "100")), 1000)
        return web.json_response(await office.list(limit, request.query.get("status"), request.query.get("unit")))

    async def rows(request: web.Request) -> web.Response:
        """Every record's analytics fields and status history (for the console's analytics)."""
        if (refused := staff(request)) is not None:
            return refused
        return web.json_response(await office.rows(request.query.get("unit")))

    async def show(request: web.Request) -> web.Response:
        if (refused := staff(request)) is not None:
            return refused
        return web.json_response(await office.get(request.match_info["id"]))

    async def staff_body(request: web.Request) -> dict[str, Any] | web.Response:
        if (refused := staff(request)) is not None:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "body must be JSON")
        return body if isinstance(body, dict) else _error(400, "body must be a JSON object")

    async def set_status(request: web.Request) -> web.Response:
        body = await staff_body(request)
        if isinstance(body, web.Response):
            return body
        await office.set_status(
            request.match_info["id"], str(body.get("status", "")), str(body.get("note", "")), str(body.get("reply", ""))
        )
        sender.wake()
        return web.json_response({"ok": True})

    async def invite(request: web.Request) -> web.Response:
        body = await staff_body(request)
        if isinstance(body, web.Response):
            return body
        fields = [str(body.get(k, "")) for k in ("when", "where", "contact")]
        if not all(fields):
            return _error(422, "when, where and contact are required")
        invitation_id = await office.invite(request.match_info["id"], *fields)
        sender.wake()
        return web.json_response({"invitation_id": invitation_id}, status=201)

    async def question(request: web.Request) -> web.Response:
        body = await staff_body(request)
        if isinstance(body, web.Response):
            return body
        text = str(body.get("text", "")).strip()
        if not text:
            return _error(422, "text is required")
        question_id = await office.ask(request.match_info["id"], text)
        sender.wake()
        return web.json_response({"question_id": question_id}, status=201)

    async def spec(_: web.Request) -> web.FileResponse:
        return web.FileResponse(SPEC, headers={"Content-Type": "application/yaml"})

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(middlewares=[errors], client_max_size=4 * 1024**2)
    app[OFFICE] = office
    app[SENDER] = sender
    app.router.add_post("/suggestions", submit)
    app.router.add_get("/suggestions", listing)
    app.router.add_get("/analytics/rows", rows)
    app.router.add_get("/suggestions/{id}", show)
    app.router.add_post("/suggestions/{id}/messages", message)
    app.router.add_post("/suggestions/{id}/status", set_status)
    app.router.add_post("/suggestions/{id}/invitations", invite)
    app.router.add_post("/suggestions/{id}/questions", question)
    app.router.add_get("/openapi.yaml", spec)
    app.router.add_get("/healthz", health)
    return app
