"""The guided form: one node per question (`_ask_<node>` renders it, `_on_<node>` takes the
answer), the writing coach's follow-ups, the summary (read back field by field in 长辈模式),
cancelling, resuming a draft and the submission."""

from __future__ import annotations

import re

from dialogs import catalog, coach
from dialogs.base import (
    FORM_NODES,
    MAX_TEXT,
    MIN_TEXT,
    STEP_OF,
    SUMMARY_FIELDS,
    TOTAL_STEPS,
    Asked,
    TurnBase,
    mask_phone,
    parse_phone,
)
from dialogs.categories import BY_KEY, standard_of
from dialogs.effects import SubmitSuggestion
from dialogs.messages import AttachmentKind, Choice, Hint
from dialogs.places import DISTRICT_WIDE, STREETS
from dialogs.record import Contact, SuggestionRecord
from dialogs.understanding import NOTHING

# Nodes that are not a step of their own for "back": going back from the next step skips them.
_TRANSIENT = frozenset({"category_guess", "problem_more", "proposal_more"})
_MAX_NAME = 20
_MAX_TITLE = coach.MAX_TITLE
GUESS_CONFIDENCE = 0.45
_EDIT = re.compile(r"^(?:改|修改|编辑|edit|change|fix)?\s*(\d{1,2})$")


def clip(text: str, size: int = 30) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


class FormTurn(TurnBase):
    # ---- navigation within the form ------------------------------------------------------

    def goto(self, node: str, remember: bool = True, prefix: str = "") -> None:
        if remember and self.state.node in _TRANSIENT:
            remember = False
        super().goto(node, remember, prefix)

    def advance(self, note: str = "") -> None:
        """Move past the current form node (to the summary when editing a field)."""
        self.state.failures = 0
        node = self.state.node
        draft = self.draft()
        nxt = {
            "category": "location",
            "category_guess": "location",
            "location": "problem",
            "location_pick": "problem",
            "problem": "proposal",
            "problem_more": "proposal",
            "proposal": "effect",
            "proposal_more": "effect",
            "title": "effect",
            "effect": "photos",
            "photos": "name",
            "name": "consent" if draft.anonymous else "phone",
            "phone": "invite" if draft.phone else "consent",
            "invite": "consent",
            "consent": "summary",
        }.get(node, "summary")
        if node in ("proposal", "proposal_more") and "title:own" not in draft.coached:
            draft.title = self.proposed_title()
            note = self.t("title_proposed", title=draft.title)
        if self.state.editing and nxt not in ("phone", "invite"):
            nxt = "summary"
        if nxt == "summary" and draft.consent is False:
            nxt = "consent"
        if nxt == "summary" and not self.state.editing:
            self.state.review = 0
        if nxt == "problem" and draft.problem:
            # They described the problem already (at the menu or the category step).
            note = self.t("problem_kept", problem=clip(draft.problem))
            gap = coach.problem_gap(draft.problem, NOTHING, self.lang)
            if gap and "problem" not in draft.coached:
                draft.coached.append("problem")
                self.state.offer = gap
                self.goto("problem_more", prefix=note + "\n")
                return
            nxt = "proposal"
        self.goto(nxt, prefix=note + "\n" if note else "")

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
        self.state.page = 0
        if self.state.draft is not None:
            self.state.draft.node = self.state.node
        self.ask()

    def proposed_title(self) -> str:
        draft = self.draft()
        return coach.propose_title(draft.proposal, draft.problem, self.lang, draft.location_detail)

    # ---- resuming a draft ----------------------------------------------------------------

    def _ask_resume(self) -> Asked:
        draft = self.draft()
        step_no = STEP_OF.get(draft.node, TOTAL_STEPS)
        choices = (Choice(self.t("resume_continue"), "/resume"), Choice(self.t("resume_new"), "/new"))
        label = catalog.category_label(self.lang, draft.category) if draft.category else ""
        what = self.t("resume_about", category=label) if label else ""
        return self.q("resume_ask", n=step_no, about=what), choices, Hint.NONE

    def ask_resume(self, welcome_back: bool = False) -> None:
        self.state.node = "resume"
        self.state.page = 0
        self.ask(self.t("welcome_back") + "\n" if welcome_back else "")

    def _on_resume(self) -> None:
        choice = self.pick(self._ask_resume()[1])
        if choice is None:
            answer = self.yes_no()
            payload = {True: "/resume", False: "/new", None: ""}[answer]
        else:
            payload = choice.payload
        if payload == "/resume":
            self.state.held = ""
            node = self.draft().node
            self.state.node = node if node in FORM_NODES else "category"
            self.ask(self.t("resume_where") + "\n")
        elif payload == "/new":
            held, self.state.held = self.state.held, ""
            self.state.draft = None
            if held:
                self.begin_with_text(held)
            else:
                self.start_form()
        else:
            self.invalid("invalid_choice")

    def begin_with_text(self, text: str) -> None:
        """Start a suggestion from the resident's own description: it becomes the problem."""
        if self.has_draft():
            self.state.held = text
            self.ask_resume()
            return
        self.state.draft = None
        self.state.editing = False
        self.state.back.clear()
        self.state.paused.clear()
        draft = self.draft()
        draft.problem = text
        ways = "" if self.state.elderly else "\n" + self.t("ways_out")
        self.say(self.q("form_intro") + ways)
        self.state.node = "category"
        if not self.guess_category(text):
            self.goto("category", remember=False, prefix=self.t("problem_noted") + "\n")

    # ---- free text -----------------------------------------------------------------------

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
        """A photo sent where text was expected: keep it and ask again."""
        if any(a.kind == AttachmentKind.IMAGE for a in self.inbound.attachments):
            self.keep_photos()
            self.say(self.t("photo_attached"))
            self.ask()
        else:
            self.invalid("invalid_text_needed")

    def keep_photos(self) -> int:
        draft = self.draft()
        for attachment in self.inbound.attachments:
            if attachment.kind == AttachmentKind.IMAGE and len(draft.photos) < self.ctx.max_photos:
                draft.photos.append(attachment.to_dict())
        return len(draft.photos)

    # ---- category ------------------------------------------------------------------------

    def _ask_category(self) -> Asked:
        return self.q("ask_category"), self.category_choices(), Hint.NONE

    def _on_category(self) -> None:
        choice = self.pick(self.category_choices(), self.category_choices(every=True))
        if choice is not None:
            self.draft().category = choice.payload.removeprefix("/cat:")
            self.advance()
            return
        if self.raw and not self.payload and not self.norm.isdecimal() and self.guess_category(self.raw):
            return
        self.invalid("invalid_choice")

    def guess_category(self, text: str) -> bool:
        """The resident described the issue instead of choosing: keep the text as the problem and
        ask to confirm the category the NLU proposes. False when there is nothing to propose."""
        category = self.nlu.category
        if category not in BY_KEY or self.nlu.category_confidence < GUESS_CONFIDENCE:
            return False
        if len(text) < MIN_TEXT[catalog.lang_of(self.lang)] or len(text) > MAX_TEXT:
            return False
        draft = self.draft()
        if not draft.problem and not self.state.editing:
            draft.problem = text
        self.state.offer = category or ""
        self.goto("category_guess", remember=False)
        return True

    def _ask_category_guess(self) -> Asked:
        label = catalog.category_label(self.lang, self.state.offer or "other")
        choices = self.yes_no_choices("choice_right", "choice_wrong")
        return self.q("ask_category_guess", category=label), choices, Hint.NONE

    def _on_category_guess(self) -> None:
        answer = self.yes_no() if not self.payload.startswith("/cat:") else None
        if answer is None:
            choice = self.pick((), self.category_choices(every=True))
            if choice is not None:
                self.draft().category = choice.payload.removeprefix("/cat:")
                self.state.offer = ""
                self.advance()
                return
            self.invalid("invalid_yesno")
            return
        if answer:
            self.draft().category = self.state.offer if self.state.offer in BY_KEY else "other"
            self.state.offer = ""
            self.advance()
        else:
            self.state.offer = ""
            self.goto("category", remember=False)

    # ---- location ------------------------------------------------------------------------

    def _ask_location(self) -> Asked:
        if self.state.elderly:
            return self.q("ask_location"), self.paged(self.all_places()), Hint.LOCATION
        return self.t("ask_location"), (), Hint.LOCATION

    def _on_location(self) -> None:
        draft = self.draft()
        if self.payload or (self.state.elderly and self.norm.isdecimal()):
            choice = self.pick(self.paged(self.all_places()), self.all_places())
            if choice is None:
                self.invalid("invalid_choice")
            elif choice.payload == "/more":
                self.state.page += 1
                self.ask()
            else:
                self.set_street(choice.payload.removeprefix("/street:"), "")
            return
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
        short = any(catalog.normalize(text) == catalog.normalize(catalog.street_label(self.lang, s)) for s in STREETS)
        detail = "" if whole or short else text
        if len(streets) == 1:
            self.set_street(streets[0], detail)
            return
        exact = [s for s in STREETS if catalog.normalize(s).removesuffix("街道") == self.norm.removesuffix("街道")]
        if len(exact) == 1:
            self.set_street(exact[0], "")
            return
        draft.location_detail = detail
        self.state.candidates = streets or [*STREETS, DISTRICT_WIDE]
        self.goto("location_pick", remember=False)

    def set_street(self, street: str, detail: str) -> None:
        draft = self.draft()
        draft.street, draft.location_detail = street, detail
        self.state.candidates = []
        self.state.node = "location"
        key = "location_district" if street == DISTRICT_WIDE else "location_set"
        self.advance(self.t(key, street=catalog.street_label(self.lang, street)))

    def _ask_location_pick(self) -> Asked:
        place = self.draft().location_detail
        known = len(self.state.candidates) < len(STREETS)
        key = "ask_location_pick" if known and place else "ask_location_unknown" if place else "ask_location_choose"
        return self.q(key, place=place), self.paged(self.street_choices(self.state.candidates)), Hint.NONE

    def _on_location_pick(self) -> None:
        shown = self.paged(self.street_choices(self.state.candidates))
        choice = self.pick(shown, self.street_choices(self.state.candidates))
        if choice is None and not self.norm.isdecimal() and self.raw and not self.payload:
            # Another description of the place: resolve it afresh.
            self.state.node = "location"
            self._on_location()
            return
        if choice is None:
            self.invalid("invalid_choice")
            return
        if choice.payload == "/more":
            self.state.page += 1
            self.ask()
            return
        self.set_street(choice.payload.removeprefix("/street:"), self.draft().location_detail)

    # ---- problem and proposal, with the writing coach ------------------------------------

    def _ask_problem(self) -> Asked:
        return self.q("ask_problem"), (), Hint.NONE

    def _on_problem(self) -> None:
        text = self.text_answer()
        if text is not None:
            self.take_problem(text)

    def take_problem(self, text: str) -> None:
        draft = self.draft()
        draft.problem = text
        gap = coach.problem_gap(text, self.nlu, self.lang)
        if gap and "problem" not in draft.coached:
            draft.coached.append("problem")
            self.state.offer = gap
            self.state.node = "problem"
            self.goto("problem_more")
            return
        self.state.node = "problem"
        self.advance()

    def _ask_problem_more(self) -> Asked:
        return self.coach_question()

    def _on_problem_more(self) -> None:
        self.on_more("problem")

    def _ask_proposal(self) -> Asked:
        return self.q("ask_proposal"), (), Hint.NONE

    def _on_proposal(self) -> None:
        text = self.text_answer()
        if text is None:
            return
        draft = self.draft()
        draft.proposal = text
        gap = coach.proposal_gap(text, self.lang)
        if gap and "proposal" not in draft.coached:
            draft.coached.append("proposal")
            self.state.offer = gap
            self.goto("proposal_more")
            return
        self.advance()

    def _ask_proposal_more(self) -> Asked:
        return self.coach_question()

    def _on_proposal_more(self) -> None:
        self.on_more("proposal")

    def coach_question(self) -> Asked:
        gap = self.state.offer if catalog.has(self.lang, self.state.offer) else "coach_problem_detail"
        return self.t(gap) + "\n" + self.q("coach_hint"), (Choice(self.t("choice_keep"), "/keep"),), Hint.NONE

    def on_more(self, field_name: str) -> None:
        """After the coach's remark: keep the text as it is, or add the new text to it."""
        keep = (
            self.payload == "/keep"
            or self.is_word("keep")
            or self.is_word("done")
            or self.is_word("skip")
            or self.yes_no() is not None
        )
        if keep:
            self.state.offer = ""
            self.advance(self.t("coach_kept"))
            return
        text = self.text_answer(min_len=False)
        if text is None:
            return
        draft = self.draft()
        joined = coach.join(getattr(draft, field_name), text, self.lang)
        if len(joined) > MAX_TEXT:
            self.invalid("invalid_too_long", max=MAX_TEXT)
            return
        setattr(draft, field_name, joined)
        self.state.offer = ""
        self.advance(self.t("coach_added"))

    # ---- the other fields ----------------------------------------------------------------

    def _ask_effect(self) -> Asked:
        return self.q("ask_effect"), (Choice(self.t("choice_skip"), "/skip"),), Hint.NONE

    def _on_effect(self) -> None:
        if self.payload == "/skip" or self.is_word("skip") or self.norm == "1":
            self.draft().effect = ""
            self.advance()
            return
        text = self.text_answer(min_len=False)
        if text is not None:
            self.draft().effect = text
            self.advance()

    def _ask_title(self) -> Asked:
        limit = _MAX_TITLE[catalog.lang_of(self.lang)]
        return self.q("ask_title", max=limit), (), Hint.NONE

    def _on_title(self) -> None:
        text = self.text_answer(min_len=False)
        if text is None:
            return
        limit = _MAX_TITLE[catalog.lang_of(self.lang)]
        if len(text) > limit:
            self.invalid("invalid_too_long", max=limit)
            return
        draft = self.draft()
        draft.title = text
        if "title:own" not in draft.coached:
            draft.coached.append("title:own")
        self.advance()

    def _ask_photos(self) -> Asked:
        return self.q("ask_photos", max=self.ctx.max_photos), (Choice(self.t("choice_no_photos"), "/skip"),), Hint.PHOTO

    def _on_photos(self) -> None:
        if any(a.kind == AttachmentKind.IMAGE for a in self.inbound.attachments):
            count = self.keep_photos()
            if count >= self.ctx.max_photos:
                self.say(self.t("photos_full", max=self.ctx.max_photos))
                self.advance()
            else:
                self.say(self.q("photos_received", count=count), (Choice(self.t("choice_photos_done"), "/skip"),))
            return
        if (
            self.payload == "/skip"
            or self.norm == "1"
            or self.is_word("skip")
            or self.is_word("done")
            or self.confident("skip", 0.6)
        ):
            self.advance()
            return
        self.invalid("photos_need")

    def _ask_name(self) -> Asked:
        return self.q("ask_name"), (Choice(self.t("choice_anonymous"), "/anonymous"),), Hint.NONE

    def _on_name(self) -> None:
        draft = self.draft()
        if self.payload == "/anonymous" or self.norm == "1" or self.is_word("anonymous") or self.is_word("skip"):
            draft.anonymous, draft.name, draft.phone, draft.accepts_invite = True, "", "", False
            self.advance()
            return
        text = self.text_answer(min_len=False)
        if text is None:
            return
        if len(text) > _MAX_NAME:
            self.invalid("invalid_too_long", max=_MAX_NAME)
            return
        draft.anonymous, draft.name = False, text
        self.advance()

    def _ask_phone(self) -> Asked:
        return self.q("ask_phone"), (Choice(self.t("choice_no_phone"), "/skip"),), Hint.CONTACT

    def shared_phone(self) -> str | None:
        """A phone number from a shared contact (one's own), the text, or the NLU."""
        contact = next((a for a in self.inbound.attachments if a.kind == AttachmentKind.CONTACT), None)
        if contact is not None and contact.meta.get("own"):
            phone = parse_phone(str(contact.meta.get("phone", "")))
            if phone:
                return phone
        candidates = [p for p in (parse_phone(self.raw), *(parse_phone(v) for v in self.nlu.values("phone"))) if p]
        return candidates[0] if candidates else None

    def _on_phone(self) -> None:
        draft = self.draft()
        phone = self.shared_phone()
        if phone is not None:
            draft.phone = phone
            self.advance()
            return
        if self.payload == "/skip" or self.norm == "1" or self.is_word("skip"):
            draft.phone, draft.accepts_invite = "", False
            self.advance()
            return
        self.invalid("invalid_phone")

    def _ask_invite(self) -> Asked:
        return self.q("ask_invite"), self.yes_no_choices(), Hint.NONE

    def _on_invite(self) -> None:
        answer = self.yes_no()
        if answer is None:
            self.invalid("invalid_yesno")
            return
        self.draft().accepts_invite = answer
        self.advance()

    def _ask_consent(self) -> Asked:
        return self.q("ask_consent"), self.yes_no_choices("choice_agree", "choice_disagree"), Hint.NONE

    def _on_consent(self) -> None:
        answer = self.yes_no()
        if answer is None:
            self.invalid("invalid_yesno")
            return
        if not answer:
            self.failed = True
            self.say(self.t("consent_required"), self.yes_no_choices("choice_agree", "choice_disagree"))
            return
        self.draft().consent = True
        self.advance()

    # ---- summary -------------------------------------------------------------------------

    def review_fields(self) -> list[tuple[str, str]]:
        """Fields read back one by one in 长辈模式 (empty optional ones left out)."""
        draft = self.draft()
        empty = {"effect": not draft.effect, "photos": not draft.photos}
        return [(label, node) for label, node in SUMMARY_FIELDS if not empty.get(node, False)]

    def _ask_summary(self) -> Asked:
        draft = self.draft()
        if not draft.title:
            draft.title = self.proposed_title()
        if self.state.elderly:
            fields = self.review_fields()
            if self.state.review < len(fields):
                label, node = fields[self.state.review]
                text = self.t("e_review_field", label=self.t(label), value=self.field_value(node))
                if self.state.review == 0:
                    text = self.t("e_review_head") + "\n" + text
                return text, self.yes_no_choices("choice_right", "choice_change"), Hint.NONE
            choices = (Choice(self.t("summary_confirm"), "/confirm"), Choice(self.t("e_not_now"), "/cancel"))
            return self.t("e_review_done"), choices, Hint.NONE
        lines = [self.t("summary_head")]
        for n, (label, node) in enumerate(SUMMARY_FIELDS, start=1):
            lines.append(self.t("summary_line", n=n, label=self.t(label), value=self.field_value(node)))
        choices = (Choice(self.t("summary_confirm"), "/confirm"), Choice(self.t("summary_cancel"), "/cancel"))
        return "\n".join(lines), choices, Hint.NONE

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

    def edit(self, node: str) -> None:
        self.state.editing = True
        self.state.back.clear()
        self.state.node = node
        self.state.page = 0
        self.ask()

    def to_cancel(self) -> None:
        self.state.return_to = self.state.node
        self.state.node = "cancel_confirm"
        self.ask()

    def _on_summary(self) -> None:
        if self.state.elderly:
            self.review_answer()
            return
        if self.payload == "/confirm" or self.is_word("confirm"):
            self.submit()
            return
        if self.payload == "/cancel":
            self.to_cancel()
            return
        match = _EDIT.match(self.norm)
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
        self.edit(SUMMARY_FIELDS[index][1])

    def review_answer(self) -> None:
        fields = self.review_fields()
        if self.state.review >= len(fields):
            if self.payload == "/confirm" or self.is_word("confirm") or self.yes_no() is True:
                self.submit()
            elif self.payload == "/cancel" or self.yes_no() is False:
                self.to_cancel()
            else:
                self.invalid("invalid_choice")
            return
        answer = self.yes_no()
        if answer is None:
            self.invalid("invalid_choice")
        elif answer:
            self.state.review += 1
            self.ask()
        else:
            self.edit(fields[self.state.review][1])

    # ---- cancelling ----------------------------------------------------------------------

    def _ask_cancel_confirm(self) -> Asked:
        return self.q("cancel_confirm"), self.yes_no_choices(), Hint.NONE

    def _on_cancel_confirm(self) -> None:
        answer = self.yes_no()
        if answer is None:
            self.invalid("invalid_yesno")
            return
        if answer:
            self.state.draft = None
            self.state.back.clear()
            self.state.paused.clear()
            self.state.editing = False
            self.show_menu(key="cancel_done")
            return
        node = self.state.return_to or "menu"
        if node in FORM_NODES and self.state.draft is None:
            node = "menu"
        self.state.node = node
        self.say(self.t("cancel_kept"))
        if node == "menu":
            self.show_menu()
        else:
            self.ask()

    # ---- submission ----------------------------------------------------------------------

    def _ask_submitting(self) -> Asked:
        return self.t("submitting"), (), Hint.NONE

    def _on_submitting(self) -> None:
        # Only reachable if a submit result was lost: offer the summary again.
        self.state.node = "summary"
        self.ask()

    def submit(self) -> None:
        draft = self.draft()
        record = SuggestionRecord(
            channel=self.inbound.key.channel,
            resident_ref="",
            language=self.lang,
            category=draft.category,
            category_standard=standard_of(draft.category),
            title=draft.title or self.proposed_title(),
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

