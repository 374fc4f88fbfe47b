"""Helpers for the seed's own systems (issue 9): campaigns, points, routing, analytics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.bootstrap import Bot
from bot.campaigns import Campaign
from bot.outreach import today
from dialogs.messages import ConversationKey, Inbound, Outbound, PlatformEvent

TOILETS = "toilets"
TOILET_QUESTIONS = [
    "您常去的哪座公厕,老人或带小孩使用时有什么不方便?",
    "您希望增加哪些适老适幼设施(扶手、儿童座椅、第三卫生间等)?",
]


def toilets(**more: Any) -> Campaign:
    start = today() - timedelta(days=10)
    values: dict[str, Any] = {
        "id": TOILETS, "title": "公厕适老适幼化改造", "description": "请说说您身边公厕的适老适幼问题。",
        "category": "urban", "streets": ["南京西路街道"], "starts": start.isoformat(),
        "ends": (start + timedelta(days=60)).isoformat(), "questions": list(TOILET_QUESTIONS),
    }
    values.update(more)
    return Campaign(**values)


class Resident:
    """A resident talking to the real pipeline through one platform conversation."""

    def __init__(self, bot: Bot, channel: str, user: str) -> None:
        self.bot = bot
        self.key = ConversationKey(channel, user)
        self.n = 0
        self.last: list[Outbound] = []

    async def send(self, text: str = "", payload: str | None = None, event: PlatformEvent | None = None,
                   inbound: Inbound | None = None) -> str:
        self.n += 1
        message = inbound or Inbound(self.key, f"{self.key.user_id}-{self.n}", text, payload, event=event)
        self.last = (await self.bot.pipeline.handle(message)).messages
        return "\n".join(m.text for m in self.last)

    async def press(self, title: str) -> str:
        (choice,) = [c for m in self.last for c in m.choices if c.title == title]
        return await self.send(choice.payload, payload=choice.payload)

    def choices(self) -> list[str]:
        return [c.title for m in self.last for c in m.choices]


def record(n: int, street: str, category: str = "urban", **more: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": f"JA-2026-{n:06d}", "channel": "wechat", "resident_ref": f"ref-{n}", "language": "zh",
        "category": category, "category_standard": None, "title": f"建议 {n}", "street": street,
        "location_detail": "", "problem": "现状问题描述", "proposal": "具体建议内容",
        "contact": {"name": "王阿姨", "anonymous": False, "phone": "13800001234", "accepts_invitation": False},
        "privacy_consent": True, "source": "", "campaign": "", "submitted_at": "2026-05-01T02:00:00+00:00",
    }
    values.update(more)
    return values


SEEDED = [
    record(1, "静安寺街道", source="jingan-park", campaign=TOILETS),
    record(2, "静安寺街道", location_detail="华山居委旁边", channel="telegram", source="jingansi-service"),
    record(3, "北站街道", category="environment", source="suhewan"),
    record(4, "北站街道", category="transport", location_detail="北站到大宁的公交", channel="rest"),
    record(5, "南京西路街道", source="zhangyuan", campaign=TOILETS),
    record(6, "全区", category="elderly", channel="rest"),
    record(7, "大宁路街道", category="environment", source="daning-park"),
]


async def seed(bot: Bot) -> None:
    """Seven records over four streets and the district, with statuses moved along."""
    office = bot.office
    assert office is not None
    for item in SEEDED:
        await office.submit(item, item["id"])
    for sid, statuses in {"JA-2026-000001": ["accepted", "adopted", "replied"],
                          "JA-2026-000003": ["accepted", "not_adopted"],
                          "JA-2026-000005": ["accepted", "in_progress", "partially_adopted", "replied", "closed"],
                          "JA-2026-000007": ["accepted"]}.items():
        for status in statuses:
            await office.set_status(sid, status, note="")
