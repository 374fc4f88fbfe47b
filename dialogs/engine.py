"""The dialog engine: a pure step(state, inbound, understanding) -> StepResult.

Each question is a node; `_ask_<node>` renders it and `_on_<node>` handles an answer. The
engine never performs I/O: it returns the new state, the messages to send and the effects
(submit, escalate) for the pipeline to carry out. Results of effects come back as events.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dialogs import catalog
from dialogs.categories import CATEGORIES, standard_of
from dialogs.effects import Effect, Escalate, SubmitSuggestion
from dialogs.messages import AttachmentKind, Choice, EventKind, Hint, Inbound, Outbound
from dialogs.places import DISTRICT_WIDE, STREETS
from dialogs.record import Contact, Status, SuggestionRecord
from dialogs.state import ConversationState, Draft, Mine
from dialogs.understanding import NOTHING, Understanding

TOTAL_STEPS = 8
STEP_OF = {
    "category": 1,
    "location": 2,
    "location_pick": 2,
    "problem": 3,
    "proposal": 4,
    "effect": 5,
    "photos": 6,
    "name": 7,
    "phone": 7,
    "invite": 7,
    "consent": 8,
}
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
MENU_INTENTS = {
    "make_suggestion": "suggest",
    "my_suggestions": "mine",
    "check_status": "mine",
    "list_campaigns": "campaigns",
    "how_to_write": "howto",
    "request_human": "human",
}
MIN_TEXT = {"zh": 4, "en": 10}
MAX_TEXT = 1000
MAX_TITLE = {"zh": 20, "en": 60}
PHONE = re.compile(r"^1[3-9]\d{9}$")
EDIT = re.compile(r"^(?:改|修改|编辑|edit|change|fix)?\s*(\d{1,2})$")


@dataclass(frozen=True, slots=True)
class Context:
    """Facts from outside the conversation that a step may need (all plain data)."""

    campaigns: tuple[str, ...] = ()  # titles of open campaigns
    max_photos: int = 9
    draft_ttl: timedelta = timedelta(days=7)


@dataclass(slots=True)
class StepResult:
    state: ConversationState
    messages: list[Outbound] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


def step(
    state: ConversationState,
    inbound: Inbound,
    understanding: Understanding = NOTHING,
    ctx: Context | None = None,
) -> StepResult:
    """Advance one conversation by one inbound message. Never mutates `state`."""
    turn = _Turn(copy.deepcopy(state), inbound, understanding, ctx or Context())
    turn.run()
    return StepResult(turn.state, turn.out, turn.effects)


def parse_phone(raw: str) -> str | None:
    digits = re.sub(r"[\s\-()()]", "", raw.translate(str.maketrans("0123456789", "0123456789")))
    digits = digits.removeprefix("+86").removeprefix("0086")
    return digits if PHONE.match(digits) else None


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"


def propose_title(draft: Draft, lang: str) -> str:
    """A short title from the proposal (or problem): its first clause, cut to size."""
    source = draft.proposal or draft.problem
    first = re.split(r"[。!?!?\n;;]|\.\s", source.strip(), maxsplit=1)[0].strip()
    limit = MAX_TITLE[catalog.lang_of(lang)]
    return first if len(first) <= limit else first[: limit - 1] + "…"


class _Turn:
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

    # ---- helpers -------------------------------------------------------------------------

    @property
    def lang(self) -> str:
        return self.state.lang

    def t(self, key: str, **values: object) -> str:
        return catalog.text(self.lang, key, **values)

    def say(self, text: str, choices: tuple[Choice, ...] = (), hint: Hint = Hint.NONE) -> None:
        self.out.append(Outbound(text, choices, hint=hint, numbered=self.state.node != "summary"))

    def is_word(self, command: str) -> bool:
        return bool(self.norm) and self.norm in catalog.words(self.lang, command)

    def now(self) -> datetime:
        return self.inbound.received_at

    def draft(self) -> Draft:
        if self.state.draft is None:
            stamp = self.now().isoformat()
            self.state.draft = Draft(draft_id=uuid.uuid4().hex, started_at=stamp, updated_at=stamp)
        return self.state.draft

    def intent(self, *names: str) -> bool:
        return self.nlu.intent in names

    def pick(self, choices: tuple[Choice, ...]) -> Choice | None:
        """A choice by payload, by its number, or by its words."""
        if self.payload:
            return next((c for c in choices if c.payload == self.payload), None)
        if self.norm.isdigit():
            index = int(self.norm) - 1
            return choices[index] if 0 <= index < len(choices) else None
        if not self.norm:
            return None
        exact = [c for c in choices if catalog.normalize(c.title) == self.norm]
        if exact:
            return exact[0]
        partial = [c for c in choices if len(self.norm) >= 2 and self.norm in catalog.normalize(c.title)]
        return partial[0] if len(partial) == 1 else None

    def yes_no(self) -> bool | None:
        if self.payload in ("/yes", "/no"):
            return self.payload == "/yes"
        if self.is_word("yes") or self.norm == "1":
            return True
        if self.is_word("no") or self.norm == "2":
            return False
        if self.intent("affirm"):
            return True
        if self.intent("deny"):
            return False
        return None

    def yes_no_choices(self, yes: str = "choice_yes", no: str = "choice_no") -> tuple[Choice, ...]:
        return (Choice(self.t(yes), "/yes"), Choice(self.t(no), "/no"))

    def invalid(self, key: str, **values: object) -> None:
        self.state.failures += 1
        self.say(self.t(key, **values) + "\n" + self.t("ways_out"))
        self.ask()

    # ---- the turn ------------------------------------------------------------------------

    def run(self) -> None:
        state = self.state
        if self.inbound.language_hint and state.node == "start":
            state.lang = catalog.lang_of(self.inbound.language_hint)
        self.expire_draft()
        event = self.inbound.event
        if event is not None:
            self.on_event(event.kind, event.data)
            return
        if state.draft is not None:
            state.draft.updated_at = self.now().isoformat()
        if self.on_command():
            return
        handler: Callable[[], None] = getattr(self, f"_on_{state.node}", self._on_menu)
        handler()

    def expire_draft(self) -> None:
        draft = self.state.draft
        if draft is None or self.state.node == "submitting":
            return
        updated = datetime.fromisoformat(draft.updated_at or draft.started_at)
        if self.now() - updated > self.ctx.draft_ttl:
            self.state.draft = None
            if self.state.node in STEP_OF or self.state.node in ("summary", "title", "cancel_confirm"):
                self.state.node = "menu"

    def on_event(self, kind: EventKind, data: dict[str, object]) -> None:
        if kind in (EventKind.FOLLOW, EventKind.SCAN):
            if data.get("scene"):
                self.state.source = str(data["scene"])
            if self.state.node in ("start", "menu"):
                self.show_menu(welcome=True)
            else:
                self.ask()
        elif kind == EventKind.MENU:
            self.choose_menu(str(data.get("key", "")))
        elif kind == EventKind.SUBMITTED:
            self.on_submitted(str(data["id"]))
        elif kind == EventKind.SUBMIT_FAILED:
            self.state.node = "summary"
            self.say(self.t("submit_failed"))
        elif kind == EventKind.STATUS_CHANGED:
            self.on_status(data)
        # UNFOLLOW and staff events change nothing in the form.

    def on_command(self) -> bool:
        node = self.state.node
        in_form = node in STEP_OF or node in ("summary", "title")
        if self.is_word("human"):
            self.escalate("asked")
            return True
        if self.is_word("menu"):
            self.show_menu()
            return True
        if self.is_word("cancel") and node != "cancel_confirm":
            if in_form:
                self.state.return_to = node
                self.state.node = "cancel_confirm"
                self.ask()
            else:
                self.show_menu()
            return True
        if self.is_word("restart") and node != "submitting":
            self.state.draft = None
            self.state.back.clear()
            self.say(self.t("restart_done"))
            self.start_form()
            return True
        if self.is_word("back") and in_form:
            self.go_back()
            return True
        if self.is_word("skip") and in_form and node not in ("photos", "effect", "phone"):
            self.invalid("invalid_skip")
            return True
        return False

    def escalate(self, reason: str) -> None:
        draft = self.state.draft
        self.effects.append(Escalate(reason=reason, street=draft.street if draft else ""))
        self.say(self.t("human_queued"))

    # ---- navigation ----------------------------------------------------------------------

    def goto(self, node: str, remember: bool = True) -> None:
        if remember and self.state.node in STEP_OF:
            self.state.back.append(self.state.node)
        self.state.node = node
        if self.state.draft is not None and node in STEP_OF:
            self.state.draft.node = node
        self.ask()

    def advance(self) -> None:
        """Move past the current form node (to the summary when editing a field)."""
        self.state.failures = 0
        node = self.state.node
        draft = self.draft()
        nxt = {
            "category": "location",
            "location": "problem",
            "location_pick": "problem",
            "problem": "proposal",
            "proposal": "effect",
            "effect": "photos",
            "photos": "name",
            "name": "consent" if draft.anonymous else "phone",
            "phone": "invite" if draft.phone else "consent",
            "invite": "consent",
            "consent": "summary",
            "title": "summary",
        }[node]
        if self.state.editing and nxt not in ("phone", "invite"):
            nxt = "summary"
        if nxt == "summary" and draft.consent is False:
            nxt = "consent"
        self.goto(nxt)

    def go_back(self) -> None:
        if self.state.editing or (self.state.node == "summary" and not self.state.back):
            self.state.editing = False
            self.state.node = "summary"
            self.ask()
            return
        if not self.state.back:
            self.show_menu(key="back_to_menu")
            return
        self.state.node = self.state.back.pop()
        self.ask()

    def start_form(self) -> None:
        self.state.editing = False
        self.state.back.clear()
        self.draft()
        self.say(self.t("form_intro") + "\n" + self.t("ways_out"))
        self.goto("category", remember=False)

    # ---- questions -----------------------------------------------------------------------

    def ask(self) -> None:
        node = self.state.node
        asker: Callable[[], tuple[str, tuple[Choice, ...], Hint]] = getattr(self, f"_ask_{node}")
        text, choices, hint = asker()
        if node in STEP_OF:
            text = self.t("progress", n=STEP_OF[node], total=TOTAL_STEPS) + text
        self.say(text, choices, hint)

    def menu_choices(self) -> tuple[Choice, ...]:
        return tuple(Choice(self.t(f"menu_{key}"), f"/menu:{key}") for key in MENU)

    def category_choices(self) -> tuple[Choice, ...]:
        return tuple(Choice(catalog.category_label(self.lang, c.key), f"/cat:{c.key}") for c in CATEGORIES)

    def street_choices(self, streets: list[str]) -> tuple[Choice, ...]:
        return tuple(Choice(catalog.street_label(self.lang, s), f"/street:{s}") for s in streets)

    def _ask_start(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self._ask_menu()

    def _ask_menu(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("menu_prompt"), self.menu_choices(), Hint.NONE

    def _ask_resume(self) -> tuple[str, tuple[Choice, ...], Hint]:
        step_no = STEP_OF.get(self.draft().node, TOTAL_STEPS)
        choices = (Choice(self.t("resume_continue"), "/resume"), Choice(self.t("resume_new"), "/new"))
        return self.t("resume_ask", n=step_no), choices, Hint.NONE

    def _ask_category(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("ask_category"), self.category_choices(), Hint.NONE

    def _ask_location(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("ask_location"), (), Hint.LOCATION

    def _ask_location_pick(self) -> tuple[str, tuple[Choice, ...], Hint]:
        place = self.draft().location_detail
        known = len(self.state.candidates) < len(STREETS)
        key = "ask_location_pick" if known else "ask_location_unknown"
        return self.t(key, place=place), self.street_choices(self.state.candidates), Hint.NONE

    def _ask_problem(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("ask_problem"), (), Hint.NONE

    def _ask_proposal(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("ask_proposal"), (), Hint.NONE

    def _ask_effect(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("ask_effect"), (), Hint.NONE

    def _ask_photos(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("ask_photos", max=self.ctx.max_photos), (), Hint.PHOTO

    def _ask_name(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("ask_name"), (), Hint.NONE

    def _ask_phone(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("ask_phone"), (), Hint.CONTACT

    def _ask_invite(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("ask_invite"), self.yes_no_choices(), Hint.NONE

    def _ask_consent(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("ask_consent"), self.yes_no_choices("choice_agree", "choice_disagree"), Hint.NONE

    def _ask_title(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("ask_title"), (), Hint.NONE

    def _ask_cancel_confirm(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("cancel_confirm"), self.yes_no_choices(), Hint.NONE

    def _ask_summary(self) -> tuple[str, tuple[Choice, ...], Hint]:
        draft = self.draft()
        if not draft.title:
            draft.title = propose_title(draft, self.lang)
        lines = [self.t("summary_head")]
        for n, (label, node) in enumerate(SUMMARY_FIELDS, start=1):
            lines.append(self.t("summary_line", n=n, label=self.t(label), value=self.field_value(node)))
        choices = (Choice(self.t("summary_confirm"), "/confirm"), Choice(self.t("summary_cancel"), "/cancel"))
        return "\n".join(lines), choices, Hint.NONE

    def _ask_submitting(self) -> tuple[str, tuple[Choice, ...], Hint]:
        return self.t("submitting"), (), Hint.NONE

    def field_value(self, node: str) -> str:
        draft = self.draft()
        none = self.t("value_none")
        if node == "category":
            return catalog.category_label(self.lang, draft.category) if draft.category else none
        if node == "location":
            street = catalog.street_label(self.lang, draft.street) if draft.street else ""
            return " ".join(part for part in (street, draft.location_detail) if part) or none
        if node == "photos":
            return self.t("value_photos", count=len(draft.photos)) if draft.photos else none
        if node == "name":
            if draft.anonymous:
                return self.t("value_anonymous")
            phone = mask_phone(draft.phone) if draft.phone else self.t("value_no_phone")
            invite = self.t("value_invite") if draft.phone and draft.accepts_invite else ""
            return self.t("value_contact", name=draft.name, phone=phone, invite=invite)
        value: str = getattr(draft, node)
        return value or none

    # ---- menu ----------------------------------------------------------------------------

    def show_menu(self, welcome: bool = False, key: str = "") -> None:
        self.state.node = "menu"
        self.state.editing = False
        if welcome:
            self.say(self.t("welcome"))
        if key:
            self.say(self.t(key))
        self.ask()

    def _on_start(self) -> None:
        self._on_menu(welcome=True)

    def _on_menu(self, welcome: bool = False) -> None:
        choice = self.pick(self.menu_choices())
        if choice is not None:
            self.choose_menu(choice.payload.removeprefix("/menu:"))
            return
        for intent, key in MENU_INTENTS.items():
            if self.intent(intent):
                self.choose_menu(key)
                return
        if self.intent("thanks"):
            self.say(self.t("thanks"))
        elif self.intent("goodbye"):
            self.say(self.t("goodbye"))
        elif welcome or self.intent("greet") or not self.raw:
            self.show_menu(welcome=True)
        else:
            self.state.failures += 1
            self.say(self.t("not_understood"))
            self.show_menu()

    def choose_menu(self, key: str) -> None:
        if key == "suggest":
            if self.state.draft is not None and (self.state.draft.category or self.state.draft.node != "category"):
                self.state.node = "resume"
                self.ask()
            else:
                self.start_form()
        elif key == "mine":
            self.list_mine()
        elif key == "campaigns":
            self.list_campaigns()
        elif key == "howto":
            self.state.node = "menu"
            self.say(self.t("howto"), self.menu_choices())
        elif key == "human":
            self.escalate("asked")
        else:
            self.show_menu()

    def list_mine(self) -> None:
        self.state.node = "menu"
        if not self.state.mine:
            self.say(self.t("mine_none"), self.menu_choices())
            return
        lines = [self.t("mine_head", count=len(self.state.mine))]
        for item in self.state.mine:
            status = self.t(f"status_{item.status}")
            lines.append(self.t("mine_line", id=item.id, title=item.title, status=status))
        self.say("\n".join(lines), self.menu_choices())

    def list_campaigns(self) -> None:
        self.state.node = "menu"
        if not self.ctx.campaigns:
            self.say(self.t("campaigns_none"), self.menu_choices())
            return
        lines = [self.t("campaigns_head")] + [self.t("campaigns_line", title=c) for c in self.ctx.campaigns]
        self.say("\n".join(lines), self.menu_choices())

    def _on_resume(self) -> None:
        choice = self.pick(self._ask_resume()[1])
        if choice is None:
            answer = self.yes_no()
            choice_payload = {True: "/resume", False: "/new", None: ""}[answer]
        else:
            choice_payload = choice.payload
        if choice_payload == "/resume":
            self.say(self.t("resume_where"))
            self.state.node = self.draft().node
            self.ask()
        elif choice_payload == "/new":
            self.state.draft = None
            self.start_form()
        else:
            self.invalid("invalid_choice")

    # ---- form nodes ----------------------------------------------------------------------

    def text_answer(self, min_len: bool = True) -> str | None:
        """Validated free text for the current node, or None after re-asking."""
        if not self.raw:
            self.take_attachments_aside()
            return None
        if len(self.raw) > MAX_TEXT:
            self.invalid("invalid_too_long", max=MAX_TEXT)
            return None
        if min_len and len(self.raw) < MIN_TEXT[catalog.lang_of(self.lang)]:
            self.invalid("invalid_too_short")
            return None
        return self.raw

    def take_attachments_aside(self) -> None:
        """A photo or voice sent where text was expected: keep photos, explain voice."""
        kinds = {a.kind for a in self.inbound.attachments}
        if AttachmentKind.IMAGE in kinds:
            self.keep_photos()
            self.say(self.t("photo_attached"))
            self.ask()
        elif AttachmentKind.VOICE in kinds:
            self.state.failures += 1
            self.say(self.t("voice_unsupported"))
            self.ask()
        else:
            self.invalid("invalid_text_needed")

    def keep_photos(self) -> int:
        draft = self.draft()
        for attachment in self.inbound.attachments:
            if attachment.kind == AttachmentKind.IMAGE and len(draft.photos) < self.ctx.max_photos:
                draft.photos.append(attachment.to_dict())
        return len(draft.photos)

    def _on_category(self) -> None:
        choice = self.pick(self.category_choices())
        if choice is None:
            self.invalid("invalid_choice")
            return
        self.draft().category = choice.payload.removeprefix("/cat:")
        self.advance()

    def _on_location(self) -> None:
        draft = self.draft()
        location = next((a for a in self.inbound.attachments if a.kind == AttachmentKind.LOCATION), None)
        if location is not None:
            draft.location_detail = str(location.meta.get("label") or "")
            self.state.candidates = [*STREETS, DISTRICT_WIDE]
            self.goto("location_pick", remember=False)
            return
        text = self.text_answer(min_len=False)
        if text is None:
            return
        if self.is_word("district") or self.nlu.values("district"):
            draft.street, draft.location_detail = DISTRICT_WIDE, ""
            self.say(self.t("location_district"))
            self.advance()
            return
        streets = [s for s in self.nlu.values("street") if s in STREETS]
        whole = any(e.entity == "street" and e.start == 0 and e.end >= len(text) for e in self.nlu.entities)
        draft.location_detail = "" if whole else text
        if len(streets) == 1:
            draft.street = streets[0]
            self.say(self.t("location_set", street=catalog.street_label(self.lang, streets[0])))
            self.advance()
            return
        self.state.candidates = streets or [*STREETS, DISTRICT_WIDE]
        self.goto("location_pick", remember=False)

    def _on_location_pick(self) -> None:
        choice = self.pick(self.street_choices(self.state.candidates))
        if choice is None and not self.norm.isdigit() and self.raw and not self.payload:
            # Another description of the place: resolve it afresh.
            self.state.node = "location"
            self._on_location()
            return
        if choice is None:
            self.invalid("invalid_choice")
            return
        street = choice.payload.removeprefix("/street:")
        self.draft().street = street
        self.state.candidates = []
        self.state.node = "location"
        self.advance()

    def _on_problem(self) -> None:
        text = self.text_answer()
        if text is not None:
            self.draft().problem = text
            self.advance()

    def _on_proposal(self) -> None:
        text = self.text_answer()
        if text is not None:
            self.draft().proposal = text
            self.advance()

    def _on_effect(self) -> None:
        if self.is_word("skip"):
            self.draft().effect = ""
            self.advance()
            return
        text = self.text_answer(min_len=False)
        if text is not None:
            self.draft().effect = text
            self.advance()

    def _on_title(self) -> None:
        text = self.text_answer(min_len=False)
        if text is None:
            return
        limit = MAX_TITLE[catalog.lang_of(self.lang)]
        if len(text) > limit:
            self.invalid("invalid_too_long", max=limit)
            return
        self.draft().title = text
        self.advance()

    def _on_photos(self) -> None:
        if any(a.kind == AttachmentKind.IMAGE for a in self.inbound.attachments):
            count = self.keep_photos()
            if count >= self.ctx.max_photos:
                self.say(self.t("photos_full", max=self.ctx.max_photos))
                self.advance()
            else:
                self.say(self.t("photos_received", count=count))
            return
        if self.is_word("skip") or self.is_word("done") or self.intent("skip"):
            self.advance()
            return
        self.invalid("photos_need")

    def _on_name(self) -> None:
        draft = self.draft()
        if self.is_word("anonymous") or self.is_word("skip"):
            draft.anonymous, draft.name, draft.phone, draft.accepts_invite = True, "", "", False
            self.advance()
            return
        text = self.text_answer(min_len=False)
        if text is None:
            return
        if len(text) > 20:
            self.invalid("invalid_too_long", max=20)
            return
        draft.anonymous, draft.name = False, text
        self.advance()

    def _on_phone(self) -> None:
        draft = self.draft()
        contact = next((a for a in self.inbound.attachments if a.kind == AttachmentKind.CONTACT), None)
        if contact is not None and contact.meta.get("own") and parse_phone(str(contact.meta.get("phone", ""))):
            draft.phone = parse_phone(str(contact.meta["phone"])) or ""
            self.advance()
            return
        if self.is_word("skip"):
            draft.phone, draft.accepts_invite = "", False
            self.advance()
            return
        candidates = [p for p in (parse_phone(self.raw), *self.nlu.values("phone")) if p]
        phone = parse_phone(candidates[0]) if candidates else None
        if phone is None:
            self.invalid("invalid_phone")
            return
        draft.phone = phone
        self.advance()

    def _on_invite(self) -> None:
        answer = self.yes_no()
        if answer is None:
            self.invalid("invalid_yesno")
            return
        self.draft().accepts_invite = answer
        self.advance()

    def _on_consent(self) -> None:
        answer = self.yes_no()
        if answer is None:
            self.invalid("invalid_yesno")
            return
        if not answer:
            self.state.failures += 1
            self.say(self.t("consent_required"), self.yes_no_choices("choice_agree", "choice_disagree"))
            return
        self.draft().consent = True
        self.advance()

    def _on_summary(self) -> None:
        if self.payload == "/confirm" or self.is_word("confirm"):
            self.submit()
            return
        if self.payload == "/cancel":
            self.state.return_to = "summary"
            self.state.node = "cancel_confirm"
            self.ask()
            return
        match = EDIT.match(self.norm)
        if match is None:
            if self.norm.startswith(catalog.words(self.lang, "edit_prefix")):
                self.say(self.t("edit_which", max=len(SUMMARY_FIELDS)))
                return
            self.invalid("edit_which", max=len(SUMMARY_FIELDS))
            return
        index = int(match.group(1)) - 1
        if not 0 <= index < len(SUMMARY_FIELDS):
            self.invalid("edit_which", max=len(SUMMARY_FIELDS))
            return
        self.state.editing = True
        self.state.back.clear()
        node = SUMMARY_FIELDS[index][1]
        self.state.node = node
        self.ask()

    def _on_cancel_confirm(self) -> None:
        answer = self.yes_no()
        if answer is None:
            self.invalid("invalid_yesno")
            return
        if answer:
            self.state.draft = None
            self.state.back.clear()
            self.show_menu(key="cancel_done")
            return
        self.state.node = self.state.return_to or "menu"
        self.say(self.t("cancel_kept"))
        self.ask()

    def _on_submitting(self) -> None:
        # Only reachable if a submit result was lost: offer the summary again.
        self.state.node = "summary"
        self.ask()

    # ---- submission and status -----------------------------------------------------------

    def submit(self) -> None:
        draft = self.draft()
        record = SuggestionRecord(
            channel=self.inbound.key.channel,
            resident_ref="",
            language=self.lang,
            category=draft.category,
            category_standard=standard_of(draft.category),
            title=draft.title or propose_title(draft, self.lang),
            street=draft.street,
            location_detail=draft.location_detail,
            problem=draft.problem,
            proposal=draft.proposal,
            expected_effect=draft.effect,
            attachments=list(draft.photos),
            contact=Contact(
                name=draft.name,
                anonymous=draft.anonymous,
                phone=draft.phone,
                accepts_invitation=draft.accepts_invite,
            ),
            privacy_consent=draft.consent,
            source=self.state.source,
            created_at=draft.started_at,
            submitted_at=self.now().isoformat(),
            draft_id=draft.draft_id,
        )
        self.state.node = "submitting"
        self.effects.append(SubmitSuggestion(record))

    def on_submitted(self, suggestion_id: str) -> None:
        draft = self.draft()
        stamp = self.now().isoformat()
        title = draft.title or propose_title(draft, self.lang)
        history = [{"status": Status.SUBMITTED.value, "at": stamp}]
        self.state.mine.append(Mine(suggestion_id, title, Status.SUBMITTED.value, history))
        self.state.draft = None
        self.state.back.clear()
        self.state.editing = False
        self.state.node = "menu"
        self.say(self.t("receipt", id=suggestion_id), self.menu_choices())

    def on_status(self, data: dict[str, object]) -> None:
        item = next((m for m in self.state.mine if m.id == data.get("id")), None)
        status = Status(str(data["status"]))
        if item is None:
            item = Mine(str(data["id"]), str(data.get("title", "")), status.value)
            self.state.mine.append(item)
        item.status = status.value
        item.history.append({"status": status.value, "at": self.now().isoformat()})
        lines = [self.t("status_push", id=item.id, title=item.title, status=self.t(f"status_{status.value}"))]
        if data.get("note"):
            lines.append(self.t("status_note", note=data["note"]))
        if data.get("reply"):
            lines.append(self.t("status_reply", reply=data["reply"]))
        self.say("\n".join(lines))
