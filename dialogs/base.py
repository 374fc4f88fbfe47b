"""What every part of a dialog turn uses: the catalogue, saying and asking (plain or in 长辈模式),
choices and yes/no, the conversation's navigation (form steps, pauses, the menu) and escalation.

A turn is one inbound message applied to one (copied) state. The node classes build on
`TurnBase`: `form.FormTurn` (the guided form and the writing coach), `followup.FollowupTurn`
(menu, my suggestions, backend events) and `engine._Turn` (what is handled before any node:
commands, emergencies, asides, language and elderly mode).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dialogs import catalog, elderly
from dialogs.campaign_info import CampaignInfo, PointInfo
from dialogs.categories import CATEGORIES
from dialogs.effects import Effect, Escalate
from dialogs.messages import Choice, Hint, Inbound, Outbound
from dialogs.places import DISTRICT_WIDE, STREETS
from dialogs.state import ConversationState, Draft
from dialogs.understanding import Understanding

TOTAL_STEPS = 8
STEP_OF = {
    "category": 1,
    "category_guess": 1,
    "location": 2,
    "location_pick": 2,
    "problem": 3,
    "problem_more": 3,
    "proposal": 4,
    "proposal_more": 4,
    "effect": 5,
    "photos": 6,
    "name": 7,
    "phone": 7,
    "invite": 7,
    "consent": 8,
    "campaign_q": 3,  # a campaign's guiding questions (dialogs.campaigns) stand for the problem step
}
# Nodes of the suggestion form: a draft remembers the last one, a returning resident resumes it.
FORM_NODES = frozenset({*STEP_OF, "title", "summary"})
# Nodes whose answer is free text: asides there are recognised only when short or question-like.
FREE_TEXT_NODES = frozenset(
    {"location", "problem", "problem_more", "proposal", "proposal_more", "effect", "title", "name", "phone",
     "question", "callback_phone", "campaign_q"}
)
PENDING_NODES = frozenset({"invitation", "question"})
# Nodes that pause the form and return to it afterwards (state.paused).
ASIDE_NODES = PENDING_NODES | {"callback_confirm", "callback_phone", "not_suggestion"}
OPTIONAL = frozenset({"effect", "photos", "phone"})
# Fields listed in the summary, in order: (label key, node that edits it).
SUMMARY_FIELDS = (
    ("field_category", "category"),
    ("field_location", "location"),
    ("field_title", "title"),
    ("field_problem", "problem"),
    ("field_proposal", "proposal"),
    ("field_effect", "effect"),
    ("field_photos", "photos"),
    ("field_contact", "name"),
)
MENU = ("suggest", "mine", "campaigns", "howto", "human")
ELDERLY_MENU = ("suggest", "mine")  # 0 (a person) and 9 (a call-back) are always offered below
# The sketch's eight: the other categories are still understood by name.
ELDERLY_CATEGORIES = ("urban", "transport", "environment", "elderly", "health", "education", "community", "other")
MIN_TEXT = {"zh": 4, "en": 10}
MAX_TEXT = 1000
PHONE = re.compile(r"^1[3-9]\d{9}$")

Asked = tuple[str, tuple[Choice, ...], Hint]


@dataclass(frozen=True, slots=True)
class Context:
    """Facts from outside the conversation that a step may need (all plain data)."""

    campaigns: tuple[str, ...] = ()  # titles of open campaigns
    # Open and recently closed campaigns, with their guiding questions and counts (bot/outreach.py).
    campaign_info: tuple[CampaignInfo, ...] = ()
    # Collection points by id (= QR scene / deep link), for `source` and campaign links.
    points: Mapping[str, PointInfo] = field(default_factory=dict)
    max_photos: int = 9
    draft_ttl: timedelta = timedelta(days=7)
    # A resident writing again after this long, with a form half done, is asked whether to go on.
    away_after: timedelta = timedelta(minutes=30)


def parse_phone(raw: str) -> str | None:
    digits = re.sub(r"[\s\-()()]", "", raw.translate(str.maketrans("0123456789", "0123456789")))
    digits = digits.removeprefix("+86").removeprefix("0086")
    return digits if PHONE.match(digits) else None


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"


class TurnBase:
    def __init__(self, state: ConversationState, inbound: Inbound, nlu: Understanding, ctx: Context) -> None:
        self.state = state
        self.inbound = inbound
        self.nlu = nlu
        self.ctx = ctx
        self.out: list[Outbound] = []
        self.effects: list[Effect] = []
        self.raw = inbound.text.strip()
        self.norm = catalog.normalize(inbound.text)
        self.payload = inbound.payload or ""
        self.failed = False  # this turn's answer was not accepted

    # ---- words ---------------------------------------------------------------------------

    @property
    def lang(self) -> str:
        return self.state.lang

    def t(self, key: str, **values: object) -> str:
        return catalog.text(self.lang, key, **values)

    def q(self, key: str, **values: object) -> str:
        """A question's text: its shorter 长辈模式 wording (key `e_<key>`) when there is one."""
        if self.state.elderly and catalog.has(self.lang, f"e_{key}"):
            return self.t(f"e_{key}", **values)
        return self.t(key, **values)

    def is_word(self, command: str) -> bool:
        return bool(self.norm) and self.norm in catalog.words(self.lang, command)

    def intent(self, *names: str) -> bool:
        return self.nlu.intent in names

    def confident(self, name: str, threshold: float = 0.6) -> bool:
        return self.nlu.intent == name and self.nlu.confidence >= threshold

    def now(self) -> datetime:
        return self.inbound.received_at

    # ---- saying and asking ---------------------------------------------------------------

    def say(self, text: str, choices: tuple[Choice, ...] = (), hint: Hint = Hint.NONE) -> None:
        if self.state.elderly and choices:
            # Numbers in the text itself, so that the help line stays the last line.
            self.out.append(Outbound(f"{text}\n{elderly.numbered_lines(choices)}", choices, hint=hint, numbered=False))
            return
        self.out.append(Outbound(text, choices, hint=hint, numbered=self.state.node != "summary"))

    def ask(self, prefix: str = "") -> None:
        node = self.state.node
        asker: Callable[[], Asked] = getattr(self, f"_ask_{node}")
        text, choices, hint = asker()
        if node in STEP_OF and not self.state.elderly and not node.endswith("_more"):
            text = self.t("progress", n=STEP_OF[node], total=TOTAL_STEPS) + text
        self.say(prefix + text, choices, hint)

    def remind(self) -> None:
        """Back to the question the resident was at, after an aside, with a one-line reminder."""
        node = self.state.node
        if node in FORM_NODES and node != "summary":
            self.ask(self.t("back_to_step", n=STEP_OF.get(node, TOTAL_STEPS)) + "\n")
        elif node in ("start", "menu"):
            self.show_menu()
        else:
            self.ask()

    # ---- choices -------------------------------------------------------------------------

    def pick(self, choices: tuple[Choice, ...], extra: tuple[Choice, ...] = ()) -> Choice | None:
        """A choice by payload, by its number, or by its words (also among `extra`)."""
        if self.payload:
            return next((c for c in (*choices, *extra) if c.payload == self.payload), None)
        if self.norm.isdecimal():
            index = int(self.norm) - 1
            return choices[index] if 0 <= index < len(choices) else None
        if not self.norm:
            return None
        every = (*choices, *extra)
        exact = [c for c in every if catalog.normalize(c.title) == self.norm]
        if exact:
            return exact[0]
        partial = {c.payload: c for c in every if len(self.norm) >= 2 and self.norm in catalog.normalize(c.title)}
        return next(iter(partial.values())) if len(partial) == 1 else None

    def yes_no(self) -> bool | None:
        if self.payload in ("/yes", "/no"):
            return self.payload == "/yes"
        if self.norm == "1":
            return True
        if self.norm == "2":
            return False
        answer = elderly.loose_yes_no(self.norm, catalog.words(self.lang, "yes"), catalog.words(self.lang, "no"))
        if answer is not None:
            return answer
        if self.confident("affirm", 0.5):
            return True
        if self.confident("deny", 0.5):
            return False
        return None

    def yes_no_choices(self, yes: str = "choice_yes", no: str = "choice_no") -> tuple[Choice, ...]:
        return (Choice(self.t(yes), "/yes"), Choice(self.t(no), "/no"))

    def menu_choices(self) -> tuple[Choice, ...]:
        keys = ELDERLY_MENU if self.state.elderly else MENU
        return tuple(Choice(self.t(f"menu_{key}"), f"/menu:{key}") for key in keys)

    def category_choices(self, every: bool = False) -> tuple[Choice, ...]:
        keys = [c.key for c in CATEGORIES]
        if self.state.elderly and not every:
            keys = list(ELDERLY_CATEGORIES)
        return tuple(Choice(catalog.category_label(self.lang, k), f"/cat:{k}") for k in keys)

    def street_choices(self, streets: list[str]) -> tuple[Choice, ...]:
        return tuple(Choice(catalog.street_label(self.lang, s), f"/street:{s}") for s in streets)

    def paged(self, choices: tuple[Choice, ...]) -> tuple[Choice, ...]:
        """In 长辈模式, a long list is shown seven at a time with "more" as the eighth."""
        if not self.state.elderly:
            return choices
        return elderly.page_of(choices, self.state.page, Choice(self.t("choice_more"), "/more"))

    def all_places(self) -> tuple[Choice, ...]:
        return self.street_choices([*STREETS, DISTRICT_WIDE])

    # ---- failures ------------------------------------------------------------------------

    def invalid(self, key: str, **values: object) -> None:
        """The answer was not accepted: say why and ask again. Twice in a row: offer help (and
        switch to 长辈模式, one simple question at a time, with a person always one digit away)."""
        self.failed = True
        self.state.failures += 1
        if self.state.failures >= 2:
            self.state.failures = 0
            if not self.state.elderly:
                self.state.elderly = True
                self.state.page = 0
                self.say(self.t(key, **values) + "\n" + self.t("elderly_on_failures"))
            else:
                self.say(self.t(key, **values) + "\n" + self.t("help_offer"))
        elif self.state.elderly:
            self.say(self.t(f"e_{key}", **values) if catalog.has(self.lang, f"e_{key}") else self.t("e_invalid"))
        else:
            self.say(self.t(key, **values) + "\n" + self.t("ways_out"))
        self.ask()

    # ---- the draft -----------------------------------------------------------------------

    def draft(self) -> Draft:
        if self.state.draft is None:
            stamp = self.now().isoformat()
            self.state.draft = Draft(draft_id=uuid.uuid4().hex, started_at=stamp, updated_at=stamp)
        return self.state.draft

    def has_draft(self) -> bool:
        """An unfinished suggestion with something in it worth offering to continue."""
        draft = self.state.draft
        return draft is not None and bool(draft.category or draft.problem or draft.node != "category")

    # ---- navigation ----------------------------------------------------------------------

    def goto(self, node: str, remember: bool = True, prefix: str = "") -> None:
        if remember and self.state.node in STEP_OF:
            self.state.back.append(self.state.node)
        self.state.node = node
        self.state.page = 0
        if self.state.draft is not None and node in FORM_NODES:
            self.state.draft.node = node
        self.ask(prefix)

    def show_menu(self, welcome: bool = False, key: str = "") -> None:
        self.state.node = "menu"
        self.state.editing = False
        self.state.page = 0
        if welcome:
            self.say(self.t("welcome"))
        if key:
            self.say(self.t(key))
        self.ask()

    def _ask_start(self) -> Asked:
        return self._ask_menu()

    def _ask_menu(self) -> Asked:
        return self.q("menu_prompt"), self.menu_choices(), Hint.NONE

    def start_form(self, intro: bool = True) -> None:
        self.state.editing = False
        self.state.back.clear()
        self.state.paused.clear()
        self.draft()
        if intro:
            ways = "" if self.state.elderly else "\n" + self.t("ways_out")
            self.say(self.q("form_intro") + ways)
        self.goto("category", remember=False)

    def pause(self, node: str) -> None:
        """Step aside from the current node to `node`; `resume()` comes back."""
        if self.state.node not in ASIDE_NODES:
            self.state.paused.append(self.state.node)
            del self.state.paused[:-3]  # asides do not nest deeply; keep the state small
        self.state.node = node
        self.state.page = 0

    def resume(self, ask_pending: bool = True) -> None:
        """Leave an aside: the next pending backend message, or where the resident was."""
        if self.state.pending and ask_pending:
            self.state.node = "invitation" if self.state.pending[0].get("kind") == "invitation" else "question"
            self.ask()
            return
        node = self.state.paused.pop() if self.state.paused else "menu"
        while node in ASIDE_NODES and self.state.paused:
            node = self.state.paused.pop()
        if node in ASIDE_NODES or (node in FORM_NODES and self.state.draft is None):
            node = "menu"
        self.state.node = node
        self.remind()

    def escalate(self, reason: str, phone: str = "", urgent: bool = False) -> None:
        draft = self.state.draft
        self.effects.append(Escalate(reason=reason, urgent=urgent, phone=phone, street=draft.street if draft else ""))

    def enter_elderly(self, key: str = "elderly_on") -> None:
        self.state.elderly = True
        self.state.page = 0
        self.state.failures = 0
        self.say(self.t(key))
