"""No conversation can get stuck: random inputs to the pure engine, whatever the NLU says."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.engine import _Turn
from dialogs.messages import Attachment, AttachmentKind, EventKind, PlatformEvent
from dialogs.state import ConversationState
from dialogs.understanding import Entity, Understanding
from tests.dialogs.convo import Convo

INTENTS = [
    None, "greet", "goodbye", "thanks", "make_suggestion", "check_status", "my_suggestions", "list_campaigns",
    "how_to_write", "request_human", "request_callback", "affirm", "deny", "back", "skip", "restart", "cancel",
    "repeat", "elderly_mode", "switch_language", "private_complaint", "emergency", "out_of_scope",
]
WORDS = [
    "你好", "1", "2", "3", "8", "9", "0", "12", "是", "否", "对", "不对", "嗯", "好了", "跳过", "返回", "取消", "重来",
    "人工", "菜单", "确认", "改 3", "全区", "匿名", "同意", "就这样", "接着写", "什么?", "长辈模式", "普通模式",
    "English", "中文", "13812345678", "123号", "查进度 JA-2026-000001", "着火了", "我家楼上漏水了",
    "提交以后多久有回音", "/yes", "/no", "/confirm", "/cancel", "/menu:suggest", "/menu:mine", "/cat:transport",
    "/street:彭浦镇", "/more", "/keep", "/skip", "/resume", "/new", "/hotline", "/as_suggestion", "/anonymous",
    "skip", "confirm", "yes", "no", "", "   ", "😀👍", "asdf;lkj", "路口没红绿灯",
    "常德路康定路口早上 8 点学生多,没有信号灯,车速很快,建议加装红绿灯",
    "长" * 1200,
]
EVENTS = [
    PlatformEvent(EventKind.FOLLOW),
    PlatformEvent(EventKind.SCAN, {"scene": "point-17"}),
    PlatformEvent(EventKind.MENU, {"key": "mine"}),
    PlatformEvent(EventKind.SUBMITTED, {"id": "JA-2026-000001"}),
    PlatformEvent(EventKind.SUBMIT_FAILED),
    PlatformEvent(EventKind.STATUS_CHANGED, {"id": "JA-2026-000001", "status": "accepted", "note": "转街道"}),
    PlatformEvent(EventKind.STATUS_CHANGED, {"id": "JA-2026-000002", "status": "nonsense"}),
    PlatformEvent(EventKind.INVITATION, {"id": "JA-2026-000001", "invitation_id": "i1", "when": "周三",
                                         "where": "办公室", "contact": "李老师"}),
    PlatformEvent(EventKind.QUESTION, {"id": "JA-2026-000001", "question_id": "q1", "text": "哪个公园?"}),
]

understandings = st.builds(
    Understanding,
    intent=st.sampled_from(INTENTS),
    confidence=st.floats(0, 1),
    entities=st.lists(
        st.sampled_from([
            Entity("street", "江宁路街道", 0, 2), Entity("street", "静安寺街道", 0, 2),
            Entity("phone", "13912345678", 0, 11),
            Entity("suggestion_id", "JA-2026-000001", 0, 14), Entity("language", "en", 0, 2),
            Entity("road", "常德路", 0, 3), Entity("district", "全区", 0, 2),
        ]),
        max_size=3,
    ).map(tuple),
    category=st.sampled_from([None, "transport", "urban", "other", "nonsense"]),
    category_confidence=st.floats(0, 1),
)

action = st.one_of(
    st.tuples(st.just("text"), st.one_of(st.sampled_from(WORDS), st.text(max_size=30)), understandings),
    st.tuples(st.just("photo"), st.just(""), understandings),
    st.tuples(st.just("voice"), st.sampled_from(["", "我想说公园的事"]), understandings),
    st.tuples(st.just("event"), st.sampled_from(EVENTS), understandings),
    st.tuples(st.just("wait"), st.sampled_from([timedelta(minutes=40), timedelta(days=8)]), understandings),
)


def play(c: Convo, actions: list[tuple[str, object, Understanding]]) -> None:
    for kind, value, understanding in actions:
        if kind == "text":
            c.send(str(value), understanding)
        elif kind == "photo":
            c.send(attachments=(Attachment(AttachmentKind.IMAGE, "p"),))
        elif kind == "voice":
            c.send(str(value), understanding, attachments=(Attachment(AttachmentKind.VOICE, "v"),))
        elif kind == "event":
            assert isinstance(value, PlatformEvent)
            c.send(event=value)
        else:
            assert isinstance(value, timedelta)
            c.now += value
        check(c.state)


def check(state: ConversationState) -> None:
    """The state survives JSON and names a node the engine can ask and answer."""
    again = ConversationState.from_dict(json.loads(json.dumps(state.to_dict(), ensure_ascii=False)))
    assert again == state
    assert hasattr(_Turn, f"_ask_{state.node}"), state.node
    assert state.node in ("start", "menu") or hasattr(_Turn, f"_on_{state.node}"), state.node
    assert len(state.paused) <= 3 and len(state.pending) <= 10


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.lists(action, max_size=25), st.booleans())
def test_every_turn_answers_and_cancel_always_gets_out(actions: list[tuple[str, object, Understanding]],
                                                       elderly: bool) -> None:
    c = Convo()
    c.state.elderly = elderly
    play(c, actions)  # Convo.send asserts every turn answers (a message or a submission)
    c.send("取消")
    c.send("是")
    assert c.node == "menu" and c.state.draft is None


@FAST
@given(st.lists(action, max_size=25))
def test_restart_always_goes_to_step_one(actions: list[tuple[str, object, Understanding]]) -> None:
    c = Convo()
    play(c, actions)
    reply = c.send("重来")
    assert c.node == "category" and c.state.draft is not None and not c.state.draft.category
    assert "1" in reply
