"""The dialog engine: a pure step(state, inbound, understanding, ctx) -> StepResult.

Each question is a node; `_ask_<node>` renders it and `_on_<node>` handles an answer (the form in
`dialogs.form`, the menu, my suggestions and backend events in `dialogs.followup`). This module
decides what comes before any node, in this order:

1. backend and platform events;
2. voice (switches to 长辈模式; a transcript, when the platform gives one, is the answer);
3. commands that work at every step: language, 长辈模式, 0/9 in 长辈模式, 人工, 菜单, 取消, 重来,
   返回, 跳过, "再说一遍";
4. emergencies (keywords from the catalogue, or a confident NLU) — answered at once;
5. a resident coming back after a while to a half-written form — asked to continue or restart;
6. asides in the middle of the form (how to write, what happens next, my suggestions, a person,
   a call-back, a private complaint) — answered, then the form resumes at the same step.

The engine never performs I/O: it returns the new state, the messages to send and the effects
(submit, escalate, send to backend) for the pipeline to carry out. Results come back as events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from dialogs import catalog, coach, safety
from dialogs.base import (
    ASIDE_NODES,
    FORM_NODES,
    FREE_TEXT_NODES,
    MIN_TEXT,
    PENDING_NODES,
    Context,
    mask_phone,
    parse_phone,
)
from dialogs.campaigns import CampaignTurn
from dialogs.effects import Effect
from dialogs.messages import AttachmentKind, EventKind, Inbound, Outbound
from dialogs.state import ConversationState, Draft
from dialogs.understanding import NOTHING, Understanding

__all__ = ["MIN_TEXT", "Context", "StepResult", "mask_phone", "parse_phone", "propose_title", "step"]

# Steps where "跳过" is an answer rather than a refusal.
SKIPPABLE = frozenset({"photos", "effect", "phone", "problem_more", "proposal_more"})
# An emergency keyword inside a text this long (or longer) is more likely a description.
EMERGENCY_TEXT = 40


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
    turn = _Turn(state.clone(), inbound, understanding, ctx or Context())
    turn.run()
    return StepResult(turn.state, turn.out, turn.effects)


def propose_title(draft: Draft, lang: str) -> str:
    """A short title from the proposal (or problem)."""
    return coach.propose_title(draft.proposal, draft.problem, lang, draft.location_detail)


class _Turn(CampaignTurn):  # CampaignTurn (themed campaigns, collection points) builds on FollowupTurn
    urgent = False

    def run(self) -> None:
        state = self.state
        if self.inbound.language_hint and state.node == "start":
            state.lang = catalog.lang_of(self.inbound.language_hint)
        self.expire_draft()
        event = self.inbound.event
        if event is not None:
            if event.kind in (EventKind.FOLLOW, EventKind.SCAN):
                state.last_seen = self.now().isoformat()
            self.on_event(event.kind, event.data)
        else:
            away = self.came_back()
            state.last_seen = self.now().isoformat()
            if state.draft is not None:
                state.draft.updated_at = self.now().isoformat()
            self.handle(away)
            if not self.failed:
                state.failures = 0
        self.finish()

    def handle(self, away: bool) -> None:
        if self.on_voice() or self.on_command() or self.on_emergency():
            return
        if away and self.has_draft() and self.state.node in FORM_NODES:
            self.ask_resume(welcome_back=True)
            return
        if self.on_aside():
            return
        handler: Callable[[], None] = getattr(self, f"_on_{self.state.node}", self._on_menu)
        handler()

    def finish(self) -> None:
        """In 长辈模式 the last line of every answer says how to reach a person."""
        if self.state.elderly and self.out and not self.urgent:
            last = self.out[-1]
            self.out[-1] = replace(last, text=last.text + "\n" + self.t("elderly_help"))

    def came_back(self) -> bool:
        if not self.state.last_seen:
            return False
        try:
            seen = datetime.fromisoformat(self.state.last_seen)
        except ValueError:
            return False
        return self.now() - seen > self.ctx.away_after

    def expire_draft(self) -> None:
        draft = self.state.draft
        if draft is None or self.state.node == "submitting":
            return
        try:
            updated = datetime.fromisoformat(draft.updated_at or draft.started_at)
        except ValueError:
            updated = self.now()
        if self.now() - updated > self.ctx.draft_ttl:
            self.state.draft = None
            self.state.back.clear()
            self.state.editing = False
            if self.state.node in FORM_NODES or self.state.node in ("cancel_confirm", "resume"):
                self.state.node = "menu"
            self.state.paused = [n for n in self.state.paused if n not in FORM_NODES]

    # ---- voice ---------------------------------------------------------------------------

    def on_voice(self) -> bool:
        """A voice message: 长辈模式 from now on. With a transcript (the platform's or ours)
        it is answered like text; without, we explain kindly and ask again."""
        if not any(a.kind == AttachmentKind.VOICE for a in self.inbound.attachments):
            return False
        if not self.state.elderly:
            self.enter_elderly("elderly_on_voice")
        if self.raw:
            self.say(self.t("voice_heard", text=self.raw))
            return False
        self.say(self.t("voice_unsupported"))
        self.remind()
        return True

    # ---- commands ------------------------------------------------------------------------

    def on_command(self) -> bool:
        node = self.state.node
        in_form = node in FORM_NODES
        target = self.language_target()
        if target is not None:
            self.state.lang = target
            self.say(self.t("language_set"))
            self.remind()
            return True
        if self.is_word("elderly_on") or (
            self.confident("elderly_mode", 0.7) and safety.short_or_question(self.raw, self.lang)
        ):
            if self.state.elderly:
                self.say(self.t("elderly_already"))
            else:
                self.enter_elderly()
            self.remind()
            return True
        if self.is_word("elderly_off") and self.state.elderly:
            self.state.elderly = False
            self.say(self.t("elderly_off"))
            self.remind()
            return True
        if self.state.elderly and not self.payload and self.norm in ("0", "9"):
            if self.norm == "0":
                self.to_person()
            else:
                self.start_callback()
            return True
        if self.is_word("human"):
            self.to_person()
            return True
        if self.is_word("menu"):
            self.show_menu()
            return True
        if self.is_word("cancel") and node != "cancel_confirm":
            if self.state.draft is not None:
                self.to_cancel()
            else:
                self.state.held = ""
                self.show_menu()
            return True
        if self.is_word("restart"):
            self.state.draft = None
            self.state.held = ""
            self.state.offer = ""
            self.say(self.t("restart_done"))
            self.start_form(intro=False)
            return True
        if self.is_word("back") and in_form:
            self.go_back()
            return True
        if self.is_word("back") and node in ASIDE_NODES and node not in PENDING_NODES:
            self.state.held = ""
            self.say(self.t("cancel_kept"))
            self.resume(ask_pending=False)
            return True
        if self.is_word("skip") and in_form and node not in SKIPPABLE:
            self.invalid("invalid_skip")
            return True
        if self.is_word("repeat") or (self.confident("repeat", 0.7) and len(self.raw) <= 8):
            self.say(self.t("repeat_intro"))
            self.remind()
            return True
        return False

    def language_target(self) -> str | None:
        if self.payload:
            return None
        if self.is_word("lang_en") and self.lang != "en":
            return "en"
        if self.is_word("lang_zh") and self.lang != "zh":
            return "zh"
        if self.confident("switch_language", 0.8) and safety.short_or_question(self.raw, self.lang):
            values = self.nlu.values("language")
            if values:
                wanted = "en" if values[0].lower().startswith("en") else "zh"
                return wanted if wanted != self.lang else None
            return "en" if self.lang == "zh" else "zh"
        return None

    def to_person(self) -> None:
        self.escalate("asked")
        self.say(self.t("human_queued"))
        if self.state.node not in ("start", "menu"):
            self.remind()

    # ---- emergencies ---------------------------------------------------------------------

    def on_emergency(self) -> bool:
        if not self.raw or self.payload or self.state.node == "question":
            return False
        calm = safety.mentions(self.raw, "calm")  # 以前, 经常, 隐患: a description, not a call for help
        kinds = [] if calm or len(self.raw) > EMERGENCY_TEXT else safety.emergency_kinds(self.raw)
        free = self.state.node in FREE_TEXT_NODES
        by_nlu = (
            self.confident("emergency", 0.7)
            and not calm
            and (not free or safety.short_or_question(self.raw, self.lang))
        )
        if not kinds and not by_nlu:
            return False
        lines = [self.t("emergency_head")]
        lines += [self.t(f"emergency_{kind}") for kind in kinds or safety.EMERGENCY_KINDS]
        lines.append(self.t("emergency_staff"))
        if self.has_draft():
            lines.append(self.t("emergency_draft_kept"))
        self.escalate("emergency", urgent=True)
        self.urgent = True
        self.state.node = "menu"
        self.state.paused.clear()
        self.state.editing = False
        self.state.offer = ""
        self.state.held = ""
        self.say("\n".join(lines))
        return True

    # ---- asides in the middle of the form ------------------------------------------------

    def aside(self, name: str) -> bool:
        """The NLU is sure of `name`, and at a free-text step the text is short or a question."""
        if self.state.node in FREE_TEXT_NODES:
            return self.confident(name, 0.8) and safety.short_or_question(self.raw, self.lang)
        return self.confident(name, 0.6)

    def on_aside(self) -> bool:
        node = self.state.node
        if node in ("start", "menu", "not_suggestion") or node in PENDING_NODES:
            return False
        if self.payload or not self.raw or self.norm.isdecimal():
            return False
        if safety.mentions(self.raw, "after_submit") and safety.short_or_question(self.raw, self.lang):
            self.say(self.t("after_submit"))
        elif self.aside("how_to_write"):
            self.say(self.t("howto"))
        elif self.aside("check_status") or self.aside("my_suggestions"):
            refs = self.suggestion_refs(loose=False)
            if refs:
                self.show_status(refs[0], aside=True)
            elif self.list_mine(aside=True):
                return True
        elif self.aside("list_campaigns"):
            campaigns = self.ctx.campaigns
            lines = [self.t("campaigns_head")] + [self.t("campaigns_line", title=c) for c in campaigns]
            self.say("\n".join(lines) if campaigns else self.t("campaigns_none"))
        elif self.aside("request_human"):
            self.escalate("asked")
            self.say(self.t("human_queued"))
        elif self.aside("request_callback") and node not in ASIDE_NODES:
            self.start_callback()
            return True
        elif node in ("category", "problem") and self.aside("private_complaint"):
            self.not_suggestion(self.raw)
            return True
        else:
            return False
        self.remind()
        return True
