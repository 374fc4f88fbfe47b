"""Table-driven tests of the guided form: pure steps, no I/O."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialogs.effects import Escalate, SubmitSuggestion
from dialogs.engine import Context, parse_phone, propose_title
from dialogs.state import Draft
from dialogs.understanding import Understanding
from tests.dialogs.convo import Convo, streets


def to_summary(c: Convo) -> Convo:
    c.send("你好")
    c.send("1")
    c.send("2")
    c.send("常德路康定路口", streets("江宁路街道"))
    c.send("常德路康定路口早上学生多,没有红绿灯")
    c.send("建议加装红绿灯和减速带")
    c.send("孩子们能安全过马路")
    c.send("跳过")
    c.send("王阿姨")
    c.send("13812345678")
    c.send("是")
    c.send("同意")
    assert c.node == "summary"
    return c


def test_whole_form_in_chinese_builds_the_record() -> None:
    c = Convo()
    assert "欢迎" in c.send("你好")
    assert "第 1 步(共 8 步)" in c.send("1")
    assert "第 2 步" in c.send("2")
    assert "好的,江宁路街道" in c.send("常德路康定路口", streets("江宁路街道"))
    assert "第 4 步" in c.send("常德路康定路口早上学生多,没有红绿灯")
    assert "第 5 步" in c.send("建议加装红绿灯和减速带")
    assert "第 6 步" in c.send("孩子们能安全过马路")
    assert "1 张" in c.photo("m-1")
    assert "2 张" in c.photo("m-2")
    assert "第 7 步" in c.send("好了")
    assert "手机号" in c.send("王阿姨")
    assert "约请" in c.send("138-1234-5678")
    assert "第 8 步" in c.send("2")
    summary = c.send("同意")
    assert "2 地点:江宁路街道 常德路康定路口" in summary
    assert "138****5678" in summary and "13812345678" not in summary
    assert c.send("确认") == ""  # the receipt comes with the submission result
    (effect,) = c.effects
    assert isinstance(effect, SubmitSuggestion)
    record = effect.record
    assert (record.category, record.category_standard) == ("transport", "交通运输")
    assert (record.street, record.location_detail) == ("江宁路街道", "常德路康定路口")
    assert record.problem == "常德路康定路口早上学生多,没有红绿灯"
    assert record.proposal == "建议加装红绿灯和减速带"
    assert record.expected_effect == "孩子们能安全过马路"
    assert [a["ref"] for a in record.attachments] == ["m-1", "m-2"]
    contact = record.contact
    assert (contact.name, contact.phone, contact.accepts_invitation) == ("王阿姨", "13812345678", False)
    assert record.privacy_consent and record.title
    receipt = c.submitted("JA-2026-000001")
    assert "JA-2026-000001" in receipt
    assert c.node == "menu" and c.state.draft is None
    assert "JA-2026-000001" in c.send("2")  # 我的建议


@pytest.mark.parametrize(
    ("answers", "node", "expected"),
    [
        # category by number, by words, by payload; junk re-asks
        (["1", "交通"], "location", "第 2 步"),
        (["1", "环境与绿化"], "location", "第 2 步"),
        (["1", "/cat:health"], "location", "第 2 步"),
        (["1", "99"], "category", "没看明白"),
        (["1", "随便"], "category", "没看明白"),
        # skip is refused on a required step
        (["1", "跳过"], "category", "不能跳过"),
        # back from the first step returns to the menu with the draft kept
        (["1", "返回"], "menu", "主菜单"),
        # back goes one step back
        (["1", "2", "返回"], "category", "第 1 步"),
        # restart clears and starts over
        (["1", "2", "重来"], "category", "从头开始"),
        # cancel asks first; "否" keeps the draft where it was
        (["1", "2", "取消"], "cancel_confirm", "确定不写了"),
        (["1", "2", "取消", "否"], "location", "接着写"),
        (["1", "2", "取消", "是"], "menu", "已经取消"),
        (["1", "2", "取消", "随便看看"], "cancel_confirm", "请回复「是」或「否」"),
        # a yes in many forms: 嗯嗯, 对对对, 好的呀
        (["1", "2", "取消", "嗯嗯嗯"], "menu", "已经取消"),
        # district-wide
        (["1", "2", "全区"], "problem", "涉及全区"),
        # unknown place: all streets offered
        (["1", "2", "我家楼下"], "location_pick", "没能确定"),
        (["1", "2", "我家楼下", "14"], "problem", "第 3 步"),
        (["1", "2", "我家楼下", "/street:彭浦镇"], "problem", "第 3 步"),
        # too short problem
        (["1", "2", "全区", "差"], "problem", "再多说几个字"),
        # human help is reachable anywhere
        (["1", "2", "人工"], "location", "工作人员"),
        # menu entries
        (["2"], "menu", "还没有提过建议"),
        (["3"], "menu", "没有正在进行的主题征集"),
        (["4"], "menu", "怎样写好一条建议"),
    ],
)
def test_steps(answers: list[str], node: str, expected: str) -> None:
    c = Convo()
    c.send("你好")
    reply = ""
    for answer in answers:
        reply = c.send(answer)
    assert c.node == node
    assert expected in reply


def test_ambiguous_road_offers_its_streets_then_accepts_a_digit() -> None:
    c = Convo()
    c.send("你好")
    c.send("1")
    c.send("2")
    reply = c.send("常德路那边", streets("静安寺街道", "江宁路街道"))
    assert "1 静安寺街道  2 江宁路街道" in reply
    c.send("2")
    assert c.state.draft is not None and c.state.draft.street == "江宁路街道"
    assert c.state.draft.location_detail == "常德路那边"


def test_location_pick_accepts_a_new_description() -> None:
    c = Convo()
    for text in ("你好", "1", "2"):
        c.send(text)
    c.send("那边", streets())
    assert c.node == "location_pick"
    c.send("大宁那边", streets("大宁路街道"))
    assert c.node == "problem"


def test_phone_validation_and_skip() -> None:
    c = to_summary(Convo())
    c.send("8")
    assert c.node == "name"
    c.send("李先生")
    assert "手机号好像不对" in c.send("12345")
    assert c.node == "phone"
    c.send("跳过")
    assert c.node == "summary"
    assert c.state.draft is not None and c.state.draft.phone == "" and not c.state.draft.accepts_invite


def test_anonymous_skips_phone_and_invitation() -> None:
    c = Convo()
    problem, proposal = "公园里的厕所太少了,老人不方便", "每个公园至少一个无障碍厕所"
    for text in ("你好", "1", "3", "全区", problem, proposal, "跳过", "跳过"):
        c.send(text)
    assert "第 8 步" in c.send("匿名")
    c.send("同意")
    assert "8 联系方式:匿名" in c.replies[0]


@pytest.mark.parametrize(
    ("edit", "node"), [("改 1", "category"), ("2", "location"), ("改3", "title"), ("修改 8", "name")]
)
def test_edit_from_summary_returns_to_summary(edit: str, node: str) -> None:
    c = to_summary(Convo())
    c.send(edit)
    assert c.node == node
    answer = {"category": "3", "location": "全区", "title": "路口装红绿灯", "name": "匿名"}[node]
    c.send(answer)
    assert c.node == "summary"


def test_edit_out_of_range_reasks() -> None:
    c = to_summary(Convo())
    assert "1 到 8" in c.send("改 12")
    assert c.node == "summary"


def test_summary_cancel_and_back() -> None:
    c = to_summary(Convo())
    c.send("返回")
    assert c.node == "consent"
    c.send("同意")
    c.send("/cancel")
    assert c.node == "cancel_confirm"
    c.send("否")
    assert c.node == "summary"


def test_consent_refused_explains_and_stays() -> None:
    c = to_summary(Convo())
    c.send("返回")
    assert "没法提交" in c.send("不同意")
    assert c.node == "consent"


def test_submit_failure_keeps_everything() -> None:
    from dialogs.messages import EventKind, PlatformEvent

    c = to_summary(Convo())
    c.send("确认")
    assert c.node == "submitting"
    assert "没有成功" in c.send(event=PlatformEvent(EventKind.SUBMIT_FAILED))
    assert c.node == "summary" and c.state.draft is not None and c.state.draft.problem


def test_returning_resident_is_asked_to_resume() -> None:
    c = Convo()
    for text in ("你好", "1", "2", "全区"):
        c.send(text)
    c.send("菜单")
    assert "没写完" in c.send("1")
    reply = c.send("1")
    assert c.node == "problem" and "第 3 步" in reply


def test_draft_expires_after_ttl() -> None:
    c = Convo(ctx=Context(draft_ttl=timedelta(days=7)))
    for text in ("你好", "1", "2", "全区"):
        c.send(text)
    c.now += timedelta(days=8)
    c.send("你好")
    assert c.state.draft is None and c.node == "menu"


def test_menu_understands_intents() -> None:
    c = Convo()
    c.send("你好")
    c.send("我想提个建议", Understanding(intent="make_suggestion", confidence=0.9))
    assert c.node == "category"
    c2 = Convo()
    c2.send("找个人", Understanding(intent="request_human", confidence=0.9))
    assert any(isinstance(e, Escalate) for e in c2.effects)


def test_photo_where_text_is_expected_is_kept() -> None:
    c = Convo()
    for text in ("你好", "1", "2", "全区"):
        c.send(text)
    assert "照片收到" in c.photo()
    assert c.node == "problem"
    assert c.state.draft is not None and len(c.state.draft.photos) == 1


def test_engine_never_mutates_its_input() -> None:
    c = Convo()
    c.send("你好")
    before = c.state.to_dict()
    from dialogs.engine import step
    from dialogs.messages import Inbound
    from tests.dialogs.convo import KEY

    step(c.state, Inbound(KEY, "x", "1"))
    assert c.state.to_dict() == before


@pytest.mark.parametrize(
    ("raw", "phone"),
    [("13812345678", "13812345678"), ("+86 138 1234 5678", "13812345678"), ("138-1234-5678", "13812345678"),
     ("12812345678", None), ("1381234567", None), ("021-62345678", None)],
)
def test_parse_phone(raw: str, phone: str | None) -> None:
    assert parse_phone(raw) == phone


def test_propose_title_is_short() -> None:
    draft = Draft("d", "2026-01-01T00:00:00+00:00", proposal="建议在常德路康定路口加装红绿灯和减速带,方便学生过马路。")
    assert len(propose_title(draft, "zh")) <= 20
