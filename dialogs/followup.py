"""Everything around the form: the menu, starting from a free description, my suggestions and
their status, the backend's events (submission result, status changes, invitations and
follow-up questions) and the asides that pause the form (call-back, not a suggestion)."""

from __future__ import annotations

import re

from dialogs import catalog, safety
from dialogs.base import (
    ASIDE_NODES,
    FORM_NODES,
    MAX_TEXT,
    MENU,
    PENDING_NODES,
    STEP_OF,
    TOTAL_STEPS,
    Asked,
    mask_phone,
)
from dialogs.effects import SendToBackend
from dialogs.form import FormTurn
from dialogs.messages import Choice, EventKind, Hint
from dialogs.record import Status
from dialogs.state import Mine

MENU_INTENTS = {
    "make_suggestion": "suggest",
    "my_suggestions": "mine",
    "check_status": "mine",
    "list_campaigns": "campaigns",
    "how_to_write": "howto",
    "request_human": "human",
}
SMALL_TALK = ("greet", "thanks", "goodbye", "out_of_scope", "affirm", "deny")
MAX_PENDING = 10
_FULL_ID = re.compile(r"\b[Jj][Aa]\s?-?\s?(\d{4})\s?-?\s?(\d{1,6})\b")
_LOOSE_ID = re.compile(r"(?:第|编号[::\s]?|#|No\.\s?)?(\d{1,6})\s*号|编号[::\s]?(\d{1,6})|#(\d{1,6})")
# A free description at the menu long enough to be the start of a suggestion.
DESCRIPTION = {"zh": 15, "en": 10}  # characters / words


class FollowupTurn(FormTurn):
    # ---- the menu ------------------------------------------------------------------------

    def show_menu(self, welcome: bool = False, key: str = "") -> None:
        self.state.paused.clear()
        super().show_menu(welcome, key)

    def _on_start(self) -> None:
        self._on_menu(welcome=True)

    def every_menu_choice(self) -> tuple[Choice, ...]:
        return tuple(Choice(self.t(f"menu_{key}"), f"/menu:{key}") for key in MENU)

    def _on_menu(self, welcome: bool = False) -> None:
        choice = self.pick(self.menu_choices(), self.every_menu_choice())
        if choice is not None:
            self.choose_menu(choice.payload.removeprefix("/menu:"))
            return
        if self.is_word("resume") and self.has_draft():
            self.continue_draft()
            return
        refs = self.suggestion_refs(loose=True)
        if refs:
            self.show_status(refs[0])
            return
        if self.confident("private_complaint", 0.6):
            self.not_suggestion(self.raw)
            return
        if self.confident("request_callback", 0.6):
            self.start_callback()
            return
        if self.confident("make_suggestion", 0.5) and not self.describes_issue():
            self.choose_menu("suggest")
            return
        if safety.mentions(self.raw, "after_submit") and safety.short_or_question(self.raw, self.lang):
            self.say(self.t("after_submit"), self.menu_choices())
            return
        if self.describes_issue():
            self.begin_with_text(self.raw)
            return
        for intent, key in MENU_INTENTS.items():
            if self.confident(intent, 0.5):
                self.choose_menu(key)
                return
        if self.confident("thanks", 0.5):
            self.say(self.t("thanks"))
        elif self.confident("goodbye", 0.5):
            self.say(self.t("goodbye"))
        elif welcome or self.confident("greet", 0.5) or not self.raw:
            if self.has_draft():
                self.say(self.t("welcome"))
                self.ask_resume()
            else:
                self.show_menu(welcome=True)
        elif self.confident("out_of_scope", 0.5):
            self.say(self.t("out_of_scope"))
            self.show_menu()
        else:
            self.invalid("not_understood")

    def describes_issue(self) -> bool:
        """Free text that reads like the description of a public issue, not a request."""
        if not self.raw or self.payload or len(self.raw) > MAX_TEXT:
            return False
        if any(self.confident(name, 0.7) for name in SMALL_TALK):
            return False
        lang = catalog.lang_of(self.lang)
        size = len(self.raw.split()) if lang == "en" else len(self.raw)
        long_enough = size >= DESCRIPTION[lang]
        unsure = self.nlu.intent is None or self.nlu.confidence < 0.6
        categorised = self.nlu.category is not None and self.nlu.category_confidence >= 0.5 and len(self.raw) >= 5
        categorised = categorised and unsure
        return long_enough or categorised

    def continue_draft(self) -> None:
        node = self.draft().node
        self.state.node = node if node in FORM_NODES else "category"
        self.ask(self.t("resume_where") + "\n")

    def choose_menu(self, key: str) -> None:
        if key == "suggest":
            if self.has_draft():
                self.ask_resume()
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
            self.say(self.t("human_queued"))
        else:
            self.show_menu()

    def list_campaigns(self) -> None:
        self.state.node = "menu"
        if not self.ctx.campaigns:
            self.say(self.t("campaigns_none"), self.menu_choices())
            return
        lines = [self.t("campaigns_head")] + [self.t("campaigns_line", title=c) for c in self.ctx.campaigns]
        self.say("\n".join(lines), self.menu_choices())

    # ---- my suggestions ------------------------------------------------------------------

    def mine_text(self) -> str:
        if not self.state.mine:
            return self.t("mine_none")
        lines = [self.t("mine_head", count=len(self.state.mine))]
        for item in self.state.mine:
            lines.append(self.t("mine_line", id=item.id, title=item.title, status=self.status_label(item.status)))
        return "\n".join(lines)

    def list_mine(self, aside: bool = False) -> bool:
        """The resident's suggestions; then any backend message still waiting for an answer
        (True: that message is now being asked)."""
        if not aside:
            self.state.node = "menu"
        if self.state.pending:
            self.say(self.mine_text())
            self.pause("invitation" if self.state.pending[0].get("kind") == "invitation" else "question")
            self.ask()
            return True
        self.say(self.mine_text(), () if aside else self.menu_choices())
        return False

    def status_label(self, status: str) -> str:
        key = f"status_{status}"
        return self.t(key) if catalog.has(self.lang, key) else status

    def suggestion_refs(self, loose: bool) -> list[str]:
        """Suggestion numbers in the message: JA-2026-000123 in full, or "123号" when `loose`."""
        refs = [*self.nlu.values("suggestion_id")]
        refs += [f"JA-{m.group(1)}-{int(m.group(2)):06d}" for m in _FULL_ID.finditer(self.raw)]
        if loose and len(self.raw) <= 20:
            refs += [next(g for g in m.groups() if g) for m in _LOOSE_ID.finditer(self.raw)]
        return list(dict.fromkeys(r.strip() for r in refs if r.strip()))

    def find_mine(self, ref: str) -> Mine | None:
        full = _FULL_ID.search(ref)
        if full:
            wanted = f"JA-{full.group(1)}-{int(full.group(2)):06d}"
            return next((m for m in self.state.mine if m.id.upper() == wanted), None)
        digits = re.sub(r"\D", "", ref)
        if not digits:
            return None
        wanted = digits.lstrip("0")
        found = [m for m in self.state.mine if re.sub(r"\D", "", m.id.rsplit("-", 1)[-1]).lstrip("0") == wanted]
        return found[-1] if found else None

    def show_status(self, ref: str, aside: bool = False) -> None:
        item = self.find_mine(ref)
        if item is None:
            text = self.t("mine_not_found", ref=ref)
        else:
            lines = [self.t("mine_one", id=item.id, title=item.title, status=self.status_label(item.status))]
            for change in item.history:
                line = self.t("mine_history_line", date=self.date(change.get("at", "")),
                              status=self.status_label(change.get("status", "")))
                if change.get("note"):
                    line += self.t("mine_history_note", note=change["note"])
                lines.append(line)
            text = "\n".join(lines)
        if aside:
            self.say(text)
            return
        self.state.node = "menu"
        self.say(text, self.menu_choices())

    def date(self, stamp: str) -> str:
        """2026-05-17T… → 5月17日 / 17 May."""
        match = re.match(r"(\d{4})-(\d{2})-(\d{2})", stamp)
        if not match:
            return stamp
        month, day = int(match.group(2)), int(match.group(3))
        return self.t("date", month=month, day=day, month_name=self.t(f"month_{month}"))

    # ---- backend and system events -------------------------------------------------------

    def on_event(self, kind: EventKind, data: dict[str, object]) -> None:
        if kind in (EventKind.FOLLOW, EventKind.SCAN):
            if data.get("scene"):
                self.state.source = str(data["scene"])
            if self.state.node in PENDING_NODES or self.state.node in ASIDE_NODES:
                self.ask()
            elif self.has_draft() and self.state.node not in ("submitting", "cancel_confirm"):
                self.ask_resume(welcome_back=True)
            elif self.state.node in ("start", "menu"):
                self.show_menu(welcome=True)
            else:
                self.ask()
        elif kind == EventKind.MENU:
            self.choose_menu(str(data.get("key", "")))
        elif kind == EventKind.SUBMITTED:
            self.on_submitted(str(data.get("id", "")))
        elif kind == EventKind.SUBMIT_FAILED:
            self.state.node = "summary"
            self.state.review = len(self.review_fields())
            self.say(self.t("submit_failed"))
        elif kind == EventKind.STATUS_CHANGED:
            self.on_status(data)
        elif kind in (EventKind.INVITATION, EventKind.QUESTION):
            self.on_backend_message(kind, data)
        elif kind == EventKind.STAFF_RELEASED:
            # Back from staff: ask again where the resident was, so they can go straight on.
            if self.state.node in ("start", "menu"):
                self.show_menu()
            else:
                self.ask()
        # UNFOLLOW and staff messages change nothing in the form.

    def on_submitted(self, suggestion_id: str) -> None:
        draft = self.draft()
        stamp = self.now().isoformat()
        title = draft.title or self.proposed_title()
        history = [{"status": Status.SUBMITTED.value, "at": stamp}]
        if suggestion_id and all(m.id != suggestion_id for m in self.state.mine):
            self.state.mine.append(Mine(suggestion_id, title, Status.SUBMITTED.value, history))
        self.state.draft = None
        self.state.back.clear()
        self.state.editing = False
        self.state.offer = ""
        self.state.review = 0
        self.state.node = "menu"
        self.say(self.t("receipt", id=suggestion_id), self.menu_choices())

    def where_in_form(self) -> str:
        """A one-line note on where the form stands, for messages that arrive in the middle."""
        node = self.state.node
        if node in FORM_NODES and node != "summary":
            return self.t("push_form_reminder", n=STEP_OF.get(node, TOTAL_STEPS))
        return ""

    def on_status(self, data: dict[str, object]) -> None:
        sid = str(data.get("id", ""))
        try:
            status: Status | None = Status(str(data.get("status", "")))
        except ValueError:
            status = None
        item = next((m for m in self.state.mine if m.id == sid), None)
        if item is None:
            item = Mine(sid, str(data.get("title", "")), status.value if status else Status.SUBMITTED.value)
            self.state.mine.append(item)
        if status is not None:
            item.status = status.value
            change = {"status": status.value, "at": self.now().isoformat()}
            if data.get("note"):
                change["note"] = str(data["note"])
            item.history.append(change)
        lines = [self.t("status_push", id=item.id, title=item.title, status=self.status_label(item.status))]
        if data.get("note"):
            lines.append(self.t("status_note", note=data["note"]))
        if data.get("reply"):
            lines.append(self.t("status_reply", reply=data["reply"]))
        note = self.where_in_form()
        if note:
            lines.append(note)
        self.say("\n".join(lines))

    def title_of(self, suggestion_id: str) -> str:
        item = next((m for m in self.state.mine if m.id == suggestion_id), None)
        return item.title if item else ""

    def on_backend_message(self, kind: EventKind, data: dict[str, object]) -> None:
        invitation = kind == EventKind.INVITATION
        fields = ("invitation_id", "when", "where", "contact") if invitation else ("question_id", "text")
        item = {"kind": kind.value, "id": str(data.get("id", ""))}
        item.update({name: str(data.get(name, "")) for name in fields})
        self.state.pending.append(item)
        del self.state.pending[:-MAX_PENDING]
        node = self.state.node
        if node in PENDING_NODES or node in ASIDE_NODES or node in ("cancel_confirm", "submitting", "resume"):
            self.say(self.t("pending_later"))
            return
        self.pause("invitation" if self.state.pending[0].get("kind") == "invitation" else "question")
        self.ask()

    def current_pending(self, kind: str) -> dict[str, str] | None:
        if self.state.pending and self.state.pending[0].get("kind") == kind:
            return self.state.pending[0]
        return None

    def _ask_invitation(self) -> Asked:
        item = self.current_pending("invitation") or {}
        text = self.q(
            "ask_invitation",
            id=item.get("id", ""),
            title=self.title_of(item.get("id", "")),
            when=item.get("when", ""),
            where=item.get("where", ""),
            contact=item.get("contact", ""),
        )
        return text, self.yes_no_choices("choice_invitation_yes", "choice_invitation_no"), Hint.NONE

    def _on_invitation(self) -> None:
        item = self.current_pending("invitation")
        if item is None:
            self.resume()
            return
        if self.is_word("back") or self.is_word("later"):
            self.defer_pending()
            return
        answer = self.yes_no()
        if answer is None:
            self.invalid("invalid_yesno")
            return
        self.state.pending.pop(0)
        self.effects.append(
            SendToBackend(item.get("id", ""), "invitation_reply",
                          {"invitation_id": item.get("invitation_id", ""), "accepted": answer})
        )
        self.say(self.t("invitation_accepted" if answer else "invitation_declined"))
        self.resume()

    def _ask_question(self) -> Asked:
        item = self.current_pending("question") or {}
        text = self.q("ask_backend_question", id=item.get("id", ""), title=self.title_of(item.get("id", "")),
                      text=item.get("text", ""))
        return text, (), Hint.NONE

    def _on_question(self) -> None:
        item = self.current_pending("question")
        if item is None:
            self.resume()
            return
        if self.is_word("back") or self.is_word("later"):
            self.defer_pending()
            return
        if not self.raw:
            self.invalid("invalid_text_needed")
            return
        if len(self.raw) > MAX_TEXT:
            self.invalid("invalid_too_long", max=MAX_TEXT)
            return
        self.state.pending.pop(0)
        self.effects.append(
            SendToBackend(item.get("id", ""), "answer", {"question_id": item.get("question_id", ""), "text": self.raw})
        )
        self.say(self.t("answer_sent"))
        self.resume()

    def defer_pending(self) -> None:
        self.say(self.t("pending_deferred"))
        self.resume(ask_pending=False)

    # ---- asides: call-back, not a suggestion ---------------------------------------------

    def start_callback(self) -> None:
        draft = self.state.draft
        phone = self.shared_phone() or (draft.phone if draft else "")
        self.pause("callback_confirm" if phone else "callback_phone")
        self.state.held = phone or ""
        self.ask()

    def _ask_callback_confirm(self) -> Asked:
        choices = self.yes_no_choices("choice_right", "choice_other_phone")
        return self.q("callback_confirm", phone=mask_phone(self.state.held)), choices, Hint.NONE

    def _on_callback_confirm(self) -> None:
        phone = self.shared_phone()
        if phone is not None:
            self.finish_callback(phone)
            return
        answer = self.yes_no()
        if answer is None:
            self.invalid("invalid_yesno")
        elif answer and self.state.held:
            self.finish_callback(self.state.held)
        else:
            self.state.node = "callback_phone"
            self.ask()

    def _ask_callback_phone(self) -> Asked:
        return self.q("ask_callback_phone"), (Choice(self.t("choice_never_mind"), "/no"),), Hint.CONTACT

    def _on_callback_phone(self) -> None:
        phone = self.shared_phone()
        if phone is not None:
            self.finish_callback(phone)
            return
        if self.payload == "/no" or self.norm == "1" or self.yes_no() is False or self.is_word("skip"):
            self.state.held = ""
            self.say(self.t("callback_dropped"))
            self.resume()
            return
        self.invalid("invalid_phone_callback")

    def finish_callback(self, phone: str) -> None:
        self.state.held = ""
        self.escalate("callback", phone=phone)
        self.say(self.t("callback_queued", phone=mask_phone(phone)))
        self.resume()

    def not_suggestion(self, text: str) -> None:
        self.state.held = text if len(text) <= MAX_TEXT else ""
        self.pause("not_suggestion")
        self.ask()

    def _ask_not_suggestion(self) -> Asked:
        choices = (
            Choice(self.t("choice_hotline"), "/hotline"),
            Choice(self.t("choice_as_suggestion"), "/as_suggestion"),
        )
        return self.q("private_explain"), choices, Hint.NONE

    def _on_not_suggestion(self) -> None:
        choice = self.pick(self._ask_not_suggestion()[1])
        if choice is None:
            self.invalid("invalid_choice")
            return
        text, self.state.held = self.state.held, ""
        if choice.payload == "/hotline":
            self.say(self.t("hotline_info"))
            self.resume()
            return
        under = self.state.paused.pop() if self.state.paused else "menu"
        if under == "problem" and self.state.draft is not None and text:
            self.state.node = "problem"
            self.take_problem(text)
        elif under in FORM_NODES and self.state.draft is not None:
            self.state.node = under
            self.remind()
        elif text:
            self.begin_with_text(text)
        else:
            self.choose_menu("suggest")
