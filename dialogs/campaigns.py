"""Themed campaigns (主动征集) in the conversation: listing the open ones (with their counts),
joining one (from the list, a QR scene / deep link naming it or a point linked to it, or a menu
key `campaign:<id>`), its guiding questions (node `campaign_q`, standing for the problem step),
and the record carrying the campaign and the collection point.

The campaigns and points come from `Context.campaign_info` / `Context.points` (filled by the
pipeline's context provider, bot/outreach.py); the engine stays pure."""

from __future__ import annotations

from dialogs.base import Asked
from dialogs.campaign_info import CampaignInfo, parse_scene
from dialogs.categories import BY_KEY
from dialogs.effects import SubmitSuggestion
from dialogs.followup import FollowupTurn
from dialogs.messages import Choice, EventKind, Hint
from dialogs.places import STREETS

CAMPAIGN_PAYLOAD = "/campaign:"
CAMPAIGN_MENU_KEY = "campaign:"


class CampaignTurn(FollowupTurn):
    def campaign(self, campaign_id: str) -> CampaignInfo | None:
        return next((c for c in self.ctx.campaign_info if c.id == campaign_id), None)

    def open_campaigns(self) -> list[CampaignInfo]:
        return [c for c in self.ctx.campaign_info if c.open]

    # ---- arriving from a QR code, a deep link or a menu key -----------------------------------

    def on_event(self, kind: EventKind, data: dict[str, object]) -> None:
        if kind in (EventKind.FOLLOW, EventKind.SCAN) and data.get("scene"):
            arrival = parse_scene(str(data["scene"]), dict(self.ctx.points))
            if arrival.point is not None:
                self.state.source = arrival.point.id
                self.say(self.t("point_welcome", point=arrival.point.name))
            if arrival.campaign:
                if arrival.point is None:
                    self.state.source = str(data["scene"])
                self.join_campaign(arrival.campaign)
                return
            if arrival.point is not None:
                data = {k: v for k, v in data.items() if k != "scene"}  # source set above
        super().on_event(kind, data)

    def choose_menu(self, key: str) -> None:
        if key.startswith(CAMPAIGN_MENU_KEY):
            self.join_campaign(key.removeprefix(CAMPAIGN_MENU_KEY))
        elif key == "campaigns":
            self.list_campaigns()
        else:
            super().choose_menu(key)

    def _on_menu(self, welcome: bool = False) -> None:
        if self.payload.startswith(CAMPAIGN_PAYLOAD):  # a campaign button from an earlier list
            self.join_campaign(self.payload.removeprefix(CAMPAIGN_PAYLOAD))
            return
        super()._on_menu(welcome)

    # ---- the list -----------------------------------------------------------------------------

    def list_campaigns(self) -> None:
        if not self.open_campaigns():
            self.state.node = "menu"
            self.say(self.t("campaigns_none"), self.menu_choices())
            return
        self.state.node = "campaign_pick"
        self.state.page = 0
        self.ask()

    def campaign_choices(self) -> tuple[Choice, ...]:
        picks = tuple(Choice(c.title, CAMPAIGN_PAYLOAD + c.id) for c in self.open_campaigns())
        return (*picks, Choice(self.t("choice_plain_suggestion"), "/menu:suggest"))

    def _ask_campaign_pick(self) -> Asked:
        lines = [self.t("campaigns_head")]
        for n, c in enumerate(self.open_campaigns(), start=1):
            lines.append(self.t("campaigns_line_full", n=n, title=c.title, ends=self.date(c.ends),
                                collected=c.collected, adopted=c.adopted))
        lines.append(self.q("campaign_pick_prompt"))
        return "\n".join(lines), self.campaign_choices(), Hint.NONE

    def _on_campaign_pick(self) -> None:
        choice = self.pick(self.campaign_choices())
        if choice is None:
            self.state.node = "menu"  # anything else is read as at the menu
            self._on_menu()
        elif choice.payload.startswith(CAMPAIGN_PAYLOAD):
            self.join_campaign(choice.payload.removeprefix(CAMPAIGN_PAYLOAD))
        else:
            self.state.node = "menu"
            self.choose_menu(choice.payload.removeprefix("/menu:"))

    # ---- joining ------------------------------------------------------------------------------

    def join_campaign(self, campaign_id: str) -> None:
        info = self.campaign(campaign_id)
        if info is None:
            self.state.node = "menu"
            self.say(self.t("campaign_unknown"), self.menu_choices())
            return
        if not info.open:
            self.state.node = "menu"
            self.say(self.t("campaign_closed", title=info.title), self.menu_choices())
            return
        draft = self.state.draft
        if draft is not None and (draft.problem or draft.proposal) and draft.campaign != info.id:
            # A suggestion half written: it joins the campaign, and goes on where it was.
            draft.campaign = info.id
            self.say(self.t("campaign_attached", title=info.title))
            self.continue_draft()
            return
        self.state.draft = None
        self.state.editing = False
        self.state.back.clear()
        self.state.paused.clear()
        draft = self.draft()
        draft.campaign = info.id
        if info.category in BY_KEY:
            draft.category = info.category
        if len(info.streets) == 1 and info.streets[0] in STREETS:
            draft.street = info.streets[0]
        intro = self.t("campaign_joined", title=info.title, description=info.description, n=len(info.questions))
        self.say(intro)
        if not info.questions:
            self.goto("category" if not draft.category else "location", remember=False)
            return
        self.goto("campaign_q", remember=False)

    # ---- the guiding questions ----------------------------------------------------------------

    def current_campaign(self) -> CampaignInfo | None:
        draft = self.state.draft
        return self.campaign(draft.campaign) if draft is not None and draft.campaign else None

    def _ask_campaign_q(self) -> Asked:
        info = self.current_campaign()
        if info is None or not info.questions:
            return self.q("ask_problem"), (), Hint.NONE
        index = min(len(self.draft().answers), len(info.questions) - 1)
        text = self.t("campaign_question", i=index + 1, n=len(info.questions), question=info.questions[index])
        return text, (), Hint.NONE

    def _on_campaign_q(self) -> None:
        info = self.current_campaign()
        draft = self.draft()
        if info is None or not info.questions:  # the campaign is gone: an ordinary problem step
            self.state.node = "problem"
            self._on_problem()
            return
        text = self.text_answer(min_len=False)
        if text is None:
            return
        total = len(info.questions)
        if len(draft.answers) >= total:  # back from the next step: the last answer again
            del draft.answers[total - 1:]
        draft.answers.append(text)
        if len(draft.answers) < total:
            self.ask()
            return
        draft.problem = "\n".join(self.t("campaign_answer", question=q, answer=a)
                                  for q, a in zip(info.questions, draft.answers, strict=False))
        if "problem" not in draft.coached:
            draft.coached.append("problem")  # the campaign's questions did the coaching
        if not draft.category:
            self.goto("category")
        elif not draft.street:
            self.goto("location")
        else:
            self.goto("proposal")

    # ---- the record ---------------------------------------------------------------------------

    def submit(self) -> None:
        draft = self.draft()
        super().submit()
        point = self.ctx.points.get(self.state.source)
        for effect in self.effects:
            if isinstance(effect, SubmitSuggestion):
                effect.record.campaign = draft.campaign
                effect.record.source_name = point.name if point is not None else ""
