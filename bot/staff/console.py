"""The staff console under /staff: server-rendered pages (Jinja2), htmx for the reply box, and
Server-Sent Events for the live queue and transcript.

Every route except the login form and the static files needs a session; every request a browser
marks as cross-site is refused, and every POST must prove our origin and carry the CSRF token.
Pages show a case's personal data (transcript, draft, phone) only to the staff member holding it.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot import logs
from bot.staff import rstream, scope
from bot.staff import sessions as sess
from bot.staff.desk import MAX_NOTE, MAX_REPLY, Desk, NotHolder
from bot.staff.notify import CHANNELS, REASONS
from bot.staff.queue import EVENTS, Case
from bot.staff.texts import t
from bot.staff.transcript import START, Line, stream_key
from dialogs import catalog
from dialogs.base import STEP_OF
from dialogs.places import DISTRICT_WIDE, STREETS

log = logs.get("minsheng.staff.console")

HERE = Path(__file__).resolve().parent
DESK = web.AppKey("desk", Desk)
SESSION = web.RequestKey("staff_session", sess.Session)
STREAMS = web.AppKey("streams", set[asyncio.Task[Any]])
PUBLIC = ("/staff/login", "/staff/static/")
SSE_BLOCK_MS = 3_000  # below redis-py's 5 s socket timeout

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _ago(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return t("ago_under_minute")
    if minutes < 60:
        return t("ago_minutes", minutes=minutes)
    return t("ago_hours", hours=minutes // 60, minutes=minutes % 60)


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)
_env.filters["ago"] = _ago


def _hm(iso: str, tz: tzinfo) -> str:
    """A stored UTC time as the office's local HH:MM."""
    try:
        return datetime.fromisoformat(iso).astimezone(tz).strftime("%H:%M")
    except ValueError:
        return ""
_env.globals.update(reasons=REASONS, channels=CHANNELS, streets=(*STREETS, DISTRICT_WIDE), steps=STEP_OF)


def render(name: str, status: int = 200, **values: Any) -> web.Response:
    html = _env.get_template(name).render(**values)
    return web.Response(text=html, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                 "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'"})


def fragment(name: str, **values: Any) -> str:
    return _env.get_template(name).render(**values)


def _me(request: web.Request) -> sess.Session:
    session: sess.Session = request[SESSION]
    return session


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    desk = request.app[DESK]
    if sess.cross_site(request, desk.public_url):
        log.warning("cross-site staff request refused", path=request.path, method=request.method)
        return web.Response(status=403, text="cross-site request refused")
    if request.path.startswith(PUBLIC):
        return await handler(request)
    session = await desk.sessions.get(request.cookies.get(sess.COOKIE))
    if session is None:
        if request.method == "GET" and "text/event-stream" not in request.headers.get("Accept", ""):
            raise web.HTTPSeeOther("/staff/login")
        return web.Response(status=401, text="login required")
    if request.method not in ("GET", "HEAD"):
        form = await request.post()
        token = request.headers.get("X-CSRF-Token") or str(form.get("csrf", ""))
        if not sess.csrf_ok(session.csrf, token):
            log.warning("staff request without a valid CSRF token", path=request.path)
            return web.Response(status=403, text="invalid CSRF token")
    request[SESSION] = session
    return await handler(request)


# ---- login ------------------------------------------------------------------------------------

async def login_form(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render("login.html", status=status, csrf=token, error=error)
    sess.set_cookie(response, sess.LOGIN_COOKIE, token, request.app[DESK].cookie_secure, 600)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    form = await request.post()
    if not sess.csrf_ok(request.cookies.get(sess.LOGIN_COOKIE, ""), str(form.get("csrf", ""))):
        return await login_form(request, t("login_expired"), 403)
    username, password = str(form.get("username", "")).strip().lower()[:64], str(form.get("password", ""))
    if await desk.sessions.too_many_failures(username):
        await desk.cases.audit(username, "login_locked")
        return await login_form(request, t("login_throttled"), 429)
    account = await asyncio.to_thread(desk.accounts.verify, username, password)  # scrypt: keep the loop free
    if account is None:
        await desk.sessions.failed(username)
        await desk.cases.audit(username, "login_failed")
        return await login_form(request, t("login_wrong"), 401)
    session = await desk.sessions.create(account.username, account.name, account.unit)
    await desk.cases.audit(account.username, "login")
    response = web.HTTPSeeOther("/staff/")
    sess.set_cookie(response, sess.COOKIE, session.token, desk.cookie_secure, desk.sessions.ttl_s)
    response.del_cookie(sess.LOGIN_COOKIE, path="/staff")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    desk, me = request.app[DESK], _me(request)
    await desk.sessions.drop(me.token)
    await desk.cases.audit(me.username, "logout")
    response = web.HTTPSeeOther("/staff/login")
    response.del_cookie(sess.COOKIE, path="/staff")
    raise response


# ---- the queue --------------------------------------------------------------------------------

async def _rows(desk: Desk, street: str, me: sess.Session) -> list[Case]:
    return [c for c in await desk.cases.queue() if (not street or c.street == street) and scope.sees_case(me, c)]


async def _last_event(desk: Desk) -> str:
    last = await rstream.latest(desk.cases.redis, EVENTS, 1)
    return last[0][0] if last else "0-0"


async def queue_page(request: web.Request) -> web.Response:
    desk, street = request.app[DESK], request.query.get("street", "")
    return render("queue.html", me=_me(request), street=street, rows=await _rows(desk, street, _me(request)),
                  now=datetime.now(UTC), since=await _last_event(desk))


async def queue_events(request: web.Request) -> web.StreamResponse:
    desk, street = request.app[DESK], request.query.get("street", "")
    response = await _open_sse(request)
    last = request.query.get("since", "$")
    while True:
        for _, entries in await rstream.read(desk.cases.redis, {EVENTS: last}, SSE_BLOCK_MS):
            last = entries[-1][0]
        if await desk.sessions.get(_me(request).token) is None:
            break  # logged out elsewhere
        rows = fragment("_rows.html", rows=await _rows(desk, street, _me(request)), now=datetime.now(UTC))
        await _send(response, "queue", rows)
    return response


# ---- one case ---------------------------------------------------------------------------------

async def _case(request: web.Request) -> Case:
    case = await request.app[DESK].cases.get(request.match_info["case"])
    if case is None:
        raise web.HTTPNotFound(text="no such case")
    if not scope.sees_case(_me(request), case):  # another street's conversation: refused on every route
        log.warning("case outside the staff member's unit refused", case=case.id)
        raise web.HTTPForbidden(text=t("case_other_unit"))
    return case


async def case_page(request: web.Request) -> web.Response:
    desk, me, case = request.app[DESK], _me(request), await _case(request)
    mine = case.status == "held" and case.holder == me.username
    values: dict[str, Any] = {"me": me, "case": case, "mine": mine, "now": datetime.now(UTC),
                              "since": await _last_event(desk), "lines": [], "draft": None, "after": "0-0",
                              "node": "", "error": request.query.get("error", "")}
    if mine:  # personal data only for the holder
        lines = await desk.transcripts.read(case.conversation)
        envelope = await desk.store.load(case.conversation)
        draft = envelope.state.draft
        values.update(lines=lines, after=lines[-1].id if lines else "0-0", node=envelope.state.node, draft=draft,
                      category=catalog.category_label("zh", draft.category) if draft and draft.category else "",
                      phone=case.phone or (draft.phone if draft else ""))
    return render("case.html", **values)


async def case_events(request: web.Request) -> web.StreamResponse:
    desk, me, case = request.app[DESK], _me(request), await _case(request)
    mine = case.status == "held" and case.holder == me.username
    response = await _open_sse(request)
    streams = {EVENTS: request.query.get("since", "$")}
    if mine:
        streams[stream_key(case.conversation)] = request.headers.get("Last-Event-ID") or request.query.get("after", "$")
    while True:
        got = await rstream.read(desk.cases.redis, streams, SSE_BLOCK_MS)
        if await desk.sessions.get(me.token) is None:
            break
        for stream, entries in got:
            streams[stream] = entries[-1][0]
            for entry_id, fields in entries:
                if stream == EVENTS:
                    if fields.get("case") == case.id:
                        await _send(response, "case", "changed")
                    continue
                line = Line.from_entry(entry_id, fields)
                if line.who != START:
                    await _send(response, "line", fragment("_line.html", line=line), line.id)
        if not got:
            await response.write(b": keep-alive\n\n")
    return response


async def claim(request: web.Request) -> web.StreamResponse:
    desk, case = request.app[DESK], await _case(request)
    won = await desk.claim(case, _me(request))
    raise web.HTTPSeeOther(f"/staff/c/{case.id}" + ("" if won else "?error=taken"))


async def reply(request: web.Request) -> web.StreamResponse:
    desk, case = request.app[DESK], await _case(request)
    text = str((await request.post()).get("text", "")).strip()
    if not text or len(text) > MAX_REPLY:
        return web.Response(status=400, text=t("reply_invalid", max=MAX_REPLY))
    try:
        await desk.reply(case, _me(request), text)
    except NotHolder:
        return web.Response(status=409, text=t("reply_not_holder"))
    return web.Response(status=204)


async def release(request: web.Request) -> web.StreamResponse:
    desk, case = request.app[DESK], await _case(request)
    try:
        await desk.release(case, _me(request))
    except NotHolder:
        raise web.HTTPSeeOther(f"/staff/c/{case.id}?error=not_holder") from None
    raise web.HTTPSeeOther("/staff/")


async def close(request: web.Request) -> web.StreamResponse:
    desk, case = request.app[DESK], await _case(request)
    note = str((await request.post()).get("note", "")).strip()[:MAX_NOTE]
    try:
        await desk.close(case, _me(request), note)
    except NotHolder:
        raise web.HTTPSeeOther(f"/staff/c/{case.id}?error=not_holder") from None
    raise web.HTTPSeeOther("/staff/")


async def audit_page(request: web.Request) -> web.Response:
    return render("audit.html", me=_me(request), entries=await request.app[DESK].cases.audit_log())


# ---- Server-Sent Events -----------------------------------------------------------------------

async def _open_sse(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    task = asyncio.current_task()
    if task is not None:  # cancelled at shutdown: a browser tab must not hold the server open
        request.app[STREAMS].add(task)
        task.add_done_callback(request.app[STREAMS].discard)
    return response


async def _send(response: web.StreamResponse, event: str, data: str, event_id: str = "") -> None:
    lines = "".join(f"data: {part}\n" for part in data.splitlines() or [""])
    head = f"id: {event_id}\n" if event_id else ""
    await response.write(f"{head}event: {event}\n{lines}\n".encode())


async def _stop_streams(app: web.Application) -> None:
    tasks: set[asyncio.Task[Any]] = app[STREAMS]
    for task in tuple(tasks):
        task.cancel()


def build_console(desk: Desk) -> web.Application:
    """The console as a sub-application (mounted at /staff); it also runs the escalation intake."""
    app = web.Application(middlewares=[guard])
    app[DESK] = desk
    _env.filters["hm"] = functools.partial(_hm, tz=desk.tz)  # one console per process
    app[STREAMS] = set()
    r = app.router
    r.add_get("/login", login_form)
    r.add_post("/login", login)
    r.add_post("/logout", logout)
    r.add_get("/", queue_page)
    r.add_get("/events", queue_events)
    r.add_get("/audit", audit_page)
    r.add_get("/c/{case}", case_page)
    r.add_get("/c/{case}/events", case_events)
    r.add_post("/c/{case}/claim", claim)
    r.add_post("/c/{case}/reply", reply)
    r.add_post("/c/{case}/release", release)
    r.add_post("/c/{case}/close", close)
    r.add_static("/static/", HERE / "static", append_version=True)
    from bot.staff.analytics import register  # records, analytics, campaigns, points (issue 9)

    register(app)

    async def start(_: web.Application) -> None:
        desk.intake.start()

    async def stop(_: web.Application) -> None:
        await _stop_streams(app)
        await desk.intake.stop()
        await desk.notifier.close()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
    return app


def mount(parent: web.Application, desk: Desk) -> None:
    parent.add_subapp("/staff", build_console(desk))
