"""What the dialog engine knows of themed campaigns (主动征集) and collection points (联系点):
plain data that the pipeline's context provider fills from the registries (bot/campaigns.py,
bot/points/). Kept apart from dialogs.campaigns so that dialogs.base can import it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    id: str
    title: str
    description: str = ""
    category: str = ""  # a dialogs.categories key, preset on the form ("" : the resident chooses)
    streets: tuple[str, ...] = ()  # scope: one or more streets; empty = district-wide
    ends: str = ""  # ISO date of the last day
    questions: tuple[str, ...] = ()  # the guiding questions (two or three)
    open: bool = True
    collected: int = 0
    adopted: int = 0


@dataclass(frozen=True, slots=True)
class PointInfo:
    id: str
    name: str
    street: str = ""
    campaign: str = ""  # a campaign this point collects for ("" : none)
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Arrival:
    """What a QR scene or deep link names: a collection point, a campaign, or both."""

    point: PointInfo | None = None
    campaign: str = ""


CAMPAIGN_SCENE = "campaign_"
POINT_CAMPAIGN_SEPARATOR = "__"


def parse_scene(scene: str, points: dict[str, PointInfo] | None = None) -> Arrival:
    """`campaign_<id>`, `<point id>`, or `<point id>__<campaign id>` (a point's QR code for one
    campaign). A point linked to a campaign in the registry brings that campaign."""
    scene = scene.strip()
    points = points or {}
    if scene.startswith(CAMPAIGN_SCENE):
        return Arrival(campaign=scene.removeprefix(CAMPAIGN_SCENE))
    point_id, _, campaign = scene.partition(POINT_CAMPAIGN_SEPARATOR)
    point = points.get(point_id)
    if point is None:
        return Arrival(campaign=campaign)
    return Arrival(point=point, campaign=campaign or point.campaign)
