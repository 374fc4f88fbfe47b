"""`minsheng campaigns add|list|close`, `minsheng points list|sheet`, `minsheng report --week`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from bot.outreach import Outreach


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    campaigns = sub.add_parser("campaigns", help="themed campaigns (主动征集): add, list, close")
    actions = campaigns.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="open a campaign")
    add.add_argument("--id", default="", help="a-z 0-9 '-' (default: generated); its QR scene is campaign_<id>")
    add.add_argument("--title", required=True)
    add.add_argument("--description", default="")
    add.add_argument("--category", default="", help="a category key (urban, transport, ...), empty: any")
    add.add_argument("--street", action="append", default=[], help="scope (repeat); none: district-wide")
    add.add_argument("--starts", required=True, help="YYYY-MM-DD")
    add.add_argument("--ends", required=True, help="YYYY-MM-DD")
    add.add_argument("--question", action="append", default=[], help="a guiding question (2 or 3)")
    add.add_argument("--unit", default="区人民建议征集办")
    actions.add_parser("list", help="every campaign with its counts")
    close = actions.add_parser("close", help="close a campaign (residents are told politely)")
    close.add_argument("id")
    campaigns.set_defaults(func=_campaigns)

    points = sub.add_parser("points", help="collection points (联系点): list, printable QR sheet")
    point_actions = points.add_subparsers(dest="action", required=True)
    point_actions.add_parser("list", help="every point")
    sheet = point_actions.add_parser("sheet", help="a printable PDF: one QR code per point with its name")
    sheet.add_argument("--out", type=Path, default=Path("points.pdf"))
    sheet.add_argument("--link", default="https://t.me/minsheng_bot?start=point_{id}",
                       help="what each code says; {id} is the point id (default: a Telegram deep link)")
    sheet.add_argument("--street", default="", help="only this street's points")
    points.set_defaults(func=_points)

    report = sub.add_parser("report", help="the weekly summary of the suggestions")
    report.add_argument("--week", action="store_true", help="the last 7 days (the default)")
    report.set_defaults(func=_report)


def _outreach(settings: Settings) -> Outreach:
    from bot.bootstrap import build_outreach
    from bot.storage import connect

    redis = connect(settings.redis_url) if settings.redis_url else None
    return build_outreach(settings, redis, None)


def _campaigns(args: argparse.Namespace) -> int:
    from bot.campaigns import Campaign, CampaignError, new_id
    from bot.outreach import today

    settings = load_settings()
    outreach = _outreach(settings)

    async def run() -> int:
        if args.action == "add":
            campaign = Campaign(id=args.id or new_id(), title=args.title, description=args.description,
                                category=args.category, streets=args.street, starts=args.starts, ends=args.ends,
                                questions=args.question, unit=args.unit, created_by="cli")
            await outreach.campaigns.add(campaign)
            print(f"campaign {campaign.id} added (QR scene campaign_{campaign.id}, menu key campaign:{campaign.id})")
        elif args.action == "close":
            await outreach.campaigns.close(args.id)
            print(f"campaign {args.id} closed")
        else:
            counts = await _counts(settings)
            for c in await outreach.campaigns.all():
                got, adopted = counts.get(c.id, (0, 0))
                print(f"{c.id:<16} {c.status(today()):<9} {c.starts}..{c.ends}  {got:>4} collected  "
                      f"{adopted:>3} adopted  {c.title}")
        return 0

    try:
        return asyncio.run(run())
    except CampaignError as exc:
        print(f"minsheng campaigns: {exc}", file=sys.stderr)
        return 1


def _points(args: argparse.Namespace) -> int:
    settings = load_settings()
    outreach = _outreach(settings)
    points = [p for p in asyncio.run(outreach.points.all()) if not args.street or p.street == args.street]
    if args.action == "list":
        for p in points:
            print(f"{p.id:<22} {p.type_label:<6} {p.street:<8} {p.name}  {p.address}")
        return 0
    from bot.points.sheet import render_sheet

    count = render_sheet(points, args.out, args.link)
    print(f"{count} QR codes written to {args.out}")
    return 0


async def _rows(settings: Settings) -> list[dict[str, Any]]:
    from backend.db import engine_for
    from backend.migrate import upgrade
    from backend.service import Office
    from bot.bootstrap import _office_url

    url = _office_url(settings)
    await asyncio.to_thread(upgrade, url)
    office = Office(engine_for(url))
    try:
        return await office.rows()
    finally:
        await office.close()


async def _counts(settings: Settings) -> dict[str, tuple[int, int]]:
    from bot.outreach import campaign_counts

    if settings.backend_url:
        return {}
    return campaign_counts(await _rows(settings))


def _report(args: argparse.Namespace) -> int:
    from bot.staff.analytics import weekly_report

    settings = load_settings()
    if settings.backend_url:
        print("minsheng report: reads the reference backend in the data dir (BACKEND_URL is set)", file=sys.stderr)
        return 2
    outreach = _outreach(settings)

    async def run() -> str:
        rows = await _rows(settings)
        campaigns = {c.id: c.title for c in await outreach.campaigns.all()}
        points = {p.id: p.name for p in await outreach.points.all()}
        return weekly_report(rows, campaigns, points)

    print(asyncio.run(run()))
    return 0
