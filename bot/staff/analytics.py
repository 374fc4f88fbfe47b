"""Records, analytics, campaigns and collection points in the staff console (issue 9).

Every route is behind the console's guard (session; CSRF and origin on POST) and scoped by the
staff member's unit (bot/staff/scope.py): a street office asking for another street's record by
URL or API gets 403, and its lists, counts and CSV hold only its own records.

Analytics are computed here from the backend's records (`Office.rows` in process, or the backend's
staff API): counts by channel, collection point, campaign, category, street and status; adoption
rate; median time to the first response and to the final reply. The charts are drawn in the
browser by the vendored Chart.js (static/chart.umd.min.js), fed by /staff/api/analytics."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from aiohttp import web

from bot import logs
from bot.campaigns import Campaign, CampaignError
from bot.outreach import ADOPTED, Outreach, today
from bot.points import TYPES, Point, PointError
from bot.staff import scope
from bot.staff.sessions import Session
from bot.staff.texts import t, table
from dialogs import catalog
from dialogs.categories import BY_KEY
from dialogs.record import Status

log = logs.get("minsheng.staff.analytics")

OUTCOMES = frozenset({Status.ADOPTED, Status.PARTIALLY_ADOPTED, Status.FOR_REFERENCE, Status.NOT_ADOPTED})
FINAL = frozenset({Status.REPLIED, Status.CLOSED})
NONE = t("none")
CSV_FIELDS = ("id", "created_at", "channel", "source", "source_name", "campaign", "category", "street", "unit",
              "status", "first_response_hours", "final_reply_hours")


# ---- the numbers ---------------------------------------------------------------------------------

def _at(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None


def hours_until(row: dict[str, Any], statuses: Iterable[str]) -> float | None:
    """Hours from submission to the first status change in `statuses` (None: not yet)."""
    wanted = set(statuses)
    history = row.get("history", [])
    start = _at(history[0]["at"]) if history else _at(str(row.get("created_at", "")))
    for change in history:
        if change.get("status") in wanted:
            end = _at(change["at"])
            if start is not None and end is not None:
                return round((end - start).total_seconds() / 3600, 2)
    return None


def first_response_hours(row: dict[str, Any]) -> float | None:
    return hours_until(row, {s.value for s in Status} - {Status.SUBMITTED.value})


def final_reply_hours(row: dict[str, Any]) -> float | None:
    return hours_until(row, {s.value for s in FINAL})


def status_label(status: str) -> str:
    key = f"status_{status}"
    return catalog.text("zh", key) if catalog.has("zh", key) else ("已提交" if status == "submitted" else status)


def category_label(key: str) -> str:
    return catalog.category_label("zh", key) if key in BY_KEY else (key or NONE)


CHANNELS = table("channel")


@dataclass(slots=True)
class Summary:
    total: int = 0
    by: dict[str, dict[str, int]] = field(default_factory=dict)
    adopted: int = 0
    decided: int = 0
    first_response_median_h: float | None = None
    final_reply_median_h: float | None = None

    @property
    def adoption_rate(self) -> float | None:
        return round(self.adopted / self.decided, 3) if self.decided else None

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "by": self.by, "adopted": self.adopted, "decided": self.decided,
                "adoption_rate": self.adoption_rate, "first_response_median_h": self.first_response_median_h,
                "final_reply_median_h": self.final_reply_median_h}


def summarize(rows: list[dict[str, Any]], campaigns: dict[str, str] | None = None,
              points: dict[str, str] | None = None) -> Summary:
    campaigns, points = campaigns or {}, points or {}
    counters: dict[str, Counter[str]] = {k: Counter() for k in
                                         ("channel", "point", "campaign", "category", "street", "status")}
    firsts, finals = [], []
    out = Summary(total=len(rows))
    for row in rows:
        source = str(row.get("source", ""))
        counters["channel"][CHANNELS.get(str(row.get("channel", "")), str(row.get("channel", "")))] += 1
        counters["point"][points.get(source) or row.get("source_name") or source or NONE] += 1
        cid = str(row.get("campaign", ""))
        counters["campaign"][campaigns.get(cid, cid) or NONE] += 1
        counters["category"][category_label(str(row.get("category", "")))] += 1
        counters["street"][str(row.get("street", "")) or NONE] += 1
        counters["status"][status_label(str(row.get("status", "")))] += 1
        seen = {h.get("status") for h in row.get("history", [])} | {row.get("status")}
        if seen & {s.value for s in OUTCOMES}:
            out.decided += 1
            out.adopted += bool(seen & ADOPTED)
        if (first := first_response_hours(row)) is not None:
            firsts.append(first)
        if (final := final_reply_hours(row)) is not None:
            finals.append(final)
    out.by = {k: dict(c.most_common()) for k, c in counters.items()}
    out.first_response_median_h = round(statistics.median(firsts), 2) if firsts else None
    out.final_reply_median_h = round(statistics.median(finals), 2) if finals else None
    return out


def in_window(rows: list[dict[str, Any]], since: date | None, until: date | None = None) -> list[dict[str, Any]]:
    def day(row: dict[str, Any]) -> str:
        return str(row.get("created_at", ""))[:10]

    return [r for r in rows if (since is None or day(r) >= since.isoformat())
            and (until is None or day(r) <= until.isoformat())]


def weekly_report(rows: list[dict[str, Any]], campaigns: dict[str, str], points: dict[str, str],
                  end: date | None = None) -> str:
    """The week's summary as plain text (`minsheng report --week`)."""
    end = end or today()
    start = end - timedelta(days=6)
    week = summarize(in_window(rows, start, end), campaigns, points)
    every = summarize(rows, campaigns, points)
    lines = [t("report_head", start=start.isoformat(), end=end.isoformat()),
             t("report_total", week=week.total, total=every.total)]
    rate = f"{every.adoption_rate:.0%}" if every.adoption_rate is not None else t("unknown")
    lines.append(t("report_outcomes", decided=every.decided, adopted=every.adopted, rate=rate))
    lines.append(t("report_times", first=_hours(every.first_response_median_h),
                   final=_hours(every.final_reply_median_h)))
    for key, title in table("dimension").items():
        counts = week.by.get(key, {})
        if counts:
            lines.append(t("report_by", title=title, counts=",".join(f"{k} {v}" for k, v in counts.items())))
    return "\n".join(lines)


def _hours(value: float | None) -> str:
    if value is None:
        return t("unknown")
    return t("hours", value=value) if value < 48 else t("days", value=value / 24)


# ---- the routes ----------------------------------------------------------------------------------

def _me(request: web.Request) -> Session:
    from bot.staff.console import SESSION

    session: Session = request[SESSION]
    return session


def _outreach(request: web.Request) -> Outreach:
    from bot.staff.console import DESK

    outreach = request.app[DESK].outreach
    if outreach is None or outreach.records is None:
        raise web.HTTPServiceUnavailable(text=t("records_unconfigured"))
    return outreach


async def _rows(request: web.Request) -> list[dict[str, Any]]:
    outreach = _outreach(request)
    assert outreach.records is not None
    rows = await outreach.records.rows(scope.unit_filter(_me(request)))
    me = _me(request)
    return [r for r in rows if scope.sees_record(me, r)]  # the query scopes; this is the second lock


async def _names(outreach: Outreach) -> tuple[dict[str, str], dict[str, str]]:
    campaigns = {c.id: c.title for c in await outreach.campaigns.all()}
    points = {p.id: p.name for p in await outreach.points.all()}
    return campaigns, points


async def _record(request: web.Request) -> dict[str, Any]:
    outreach = _outreach(request)
    assert outreach.records is not None
    found = await outreach.records.get(request.match_info["id"])
    if found is None:
        raise web.HTTPNotFound(text=t("record_missing"))
    if not scope.sees_record(_me(request), found):
        log.warning("record outside the staff member's unit refused", id=found.get("id", ""))
        raise web.HTTPForbidden(text=t("record_other_unit"))
    return found


def _public(found: dict[str, Any]) -> dict[str, Any]:
    """A record for staff pages and the API: contact details masked (the holder of a case sees them)."""
    record = dict(found.get("record", {}))
    contact = dict(record.get("contact", {}))
    if contact.get("phone"):
        phone = str(contact["phone"])
        contact["phone"] = f"{phone[:3]}****{phone[-4:]}"
    record["contact"] = contact
    record.pop("resident_ref", None)
    return {**found, "record": record}


def _render(name: str, request: web.Request, **values: Any) -> web.Response:
    from bot.staff.console import render

    return render(name, me=_me(request), **values)


async def records_page(request: web.Request) -> web.Response:
    outreach = _outreach(request)
    rows = sorted(await _rows(request), key=lambda r: str(r.get("created_at", "")), reverse=True)
    campaigns, points = await _names(outreach)
    return _render("records.html", request, rows=rows[:500], campaigns=campaigns, points=points,
                   status_label=status_label, category_label=category_label)


async def record_page(request: web.Request) -> web.Response:
    found = _public(await _record(request))
    campaigns, points = await _names(_outreach(request))
    return _render("record.html", request, s=found, r=found["record"], campaigns=campaigns, points=points,
                   status_label=status_label, category_label=category_label)


async def records_api(request: web.Request) -> web.Response:
    return web.json_response(await _rows(request))


async def record_api(request: web.Request) -> web.Response:
    return web.json_response(_public(await _record(request)))


async def analytics_api(request: web.Request) -> web.Response:
    outreach = _outreach(request)
    since = _date(request.query.get("since", ""))
    summary = summarize(in_window(await _rows(request), since), *await _names(outreach))
    return web.json_response(summary.to_dict())


async def analytics_page(request: web.Request) -> web.Response:
    outreach = _outreach(request)
    summary = summarize(await _rows(request), *await _names(outreach))
    return _render("analytics.html", request, s=summary, hours=_hours)


async def analytics_csv(request: web.Request) -> web.Response:
    rows = await _rows(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for row in rows:
        values = {**row, "first_response_hours": first_response_hours(row), "final_reply_hours": final_reply_hours(row)}
        writer.writerow(["" if values.get(k) is None else values.get(k) for k in CSV_FIELDS])
    return web.Response(body=("\ufeff" + out.getvalue()).encode(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="minsheng-records.csv"',
                                 "Cache-Control": "no-store"})


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise web.HTTPBadRequest(text="since: YYYY-MM-DD") from None


# ---- campaigns -----------------------------------------------------------------------------------

async def campaigns_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    outreach = _outreach(request)
    me = _me(request)
    counts = await outreach.counts()
    items = [c for c in await outreach.campaigns.all()
             if scope.is_district(me) or not c.streets or any(scope.sees_unit(me, s) for s in c.streets)]
    response = _render("campaigns.html", request, items=items, counts=counts, today=today(), error=error,
                       categories=BY_KEY, category_label=category_label, district=scope.is_district(me))
    response.set_status(status)
    return response


async def campaign_add(request: web.Request) -> web.StreamResponse:
    outreach, me = _outreach(request), _me(request)
    form = await request.post()
    streets = [str(s) for s in form.getall("streets", [])]
    if not scope.is_district(me):
        streets = [me.unit.split("/", 1)[0]]  # a street office's campaign is scoped to its own street
    questions = [str(form.get(f"q{i}", "")) for i in (1, 2, 3)]
    from bot.campaigns import new_id

    campaign = Campaign(id=str(form.get("id", "")).strip().lower() or new_id(), title=str(form.get("title", "")),
                        description=str(form.get("description", "")), category=str(form.get("category", "")),
                        streets=streets, starts=str(form.get("starts", "")), ends=str(form.get("ends", "")),
                        questions=questions, unit=me.unit, created_by=me.username)
    try:
        await outreach.campaigns.add(campaign)
    except CampaignError as exc:
        return await campaigns_page(request, str(exc), 422)
    outreach.refresh()
    await _audit(request, "campaign_add", campaign.id)
    raise web.HTTPSeeOther("/staff/campaigns")


async def campaign_close(request: web.Request) -> web.StreamResponse:
    outreach, me = _outreach(request), _me(request)
    campaign = await outreach.campaigns.get(request.match_info["id"])
    if campaign is None:
        raise web.HTTPNotFound(text=t("campaign_missing"))
    if not scope.is_district(me) and campaign.unit != me.unit:
        raise web.HTTPForbidden(text=t("campaign_other_unit"))
    await outreach.campaigns.close(campaign.id)
    outreach.refresh()
    await _audit(request, "campaign_close", campaign.id)
    raise web.HTTPSeeOther("/staff/campaigns")


# ---- collection points ---------------------------------------------------------------------------

async def points_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    outreach = _outreach(request)
    response = _render("points.html", request, items=await outreach.points.all(), types=TYPES, error=error,
                       campaigns=await outreach.campaigns.all(), district=scope.is_district(_me(request)))
    response.set_status(status)
    return response


async def point_put(request: web.Request) -> web.StreamResponse:
    outreach, me = _outreach(request), _me(request)
    form = await request.post()
    point = Point(id=str(form.get("id", "")).strip().lower(), name=str(form.get("name", "")),
                  type=str(form.get("type", "")), street=str(form.get("street", "")),
                  address=str(form.get("address", "")), campaign=str(form.get("campaign", "")))
    existing = await outreach.points.get(point.id)
    if not scope.is_district(me) and (point.street != me.unit or (existing and existing.street != me.unit)):
        raise web.HTTPForbidden(text=t("point_other_unit"))
    try:
        await outreach.points.put(point)
    except PointError as exc:
        return await points_page(request, str(exc), 422)
    outreach.refresh()
    await _audit(request, "point_put", point.id)
    raise web.HTTPSeeOther("/staff/points")


async def _audit(request: web.Request, action: str, what: str) -> None:
    from bot.staff.console import DESK

    await request.app[DESK].cases.audit(_me(request).username, action, "", what)


def register(app: web.Application) -> None:
    r = app.router
    r.add_get("/records", records_page)
    r.add_get("/records/{id}", record_page)
    r.add_get("/api/records", records_api)
    r.add_get("/api/records/{id}", record_api)
    r.add_get("/analytics", analytics_page)
    r.add_get("/api/analytics", analytics_api)
    r.add_get("/analytics.csv", analytics_csv)
    r.add_get("/campaigns", campaigns_page)
    r.add_post("/campaigns", campaign_add)
    r.add_post("/campaigns/{id}/close", campaign_close)
    r.add_get("/points", points_page)
    r.add_post("/points", point_put)
