"""Conversation depth on the pure engine: 长辈模式, asides, drafts, the writing coach, what is not
a suggestion, English, my suggestions and backend events (issue 4)."""

from __future__ import annotations

import string
from datetime import timedelta

import pytest

from dialogs import catalog
from dialogs.effects import Escalate, SendToBackend, SubmitSuggestion
from dialogs.messages import Attachment, AttachmentKind, EventKind, PlatformEvent
from dialogs.understanding import Entity, Understanding
from tests.dialogs.convo import Convo, streets

HELP = "回复 0 找工作人员,回复 9 请工作人员给您回电话"


def nlu(intent: str | None = None, confidence: float = 0.95, category: str | None = None,
        category_confidence: float = 0.0, **entities: str) -> Understanding:
    found = tuple(Entity(name, value, 0, len(value)) for name, value in entities.items())
    return Understanding(intent, confidence, found, category, category_confidence)


def to_problem(c: Convo) -> Convo:
    for text in ("你好", "1", "2", "全区"):
        c.send(text)
    assert c.node == "problem"
    return c


def escalations(c: Convo) -> list[Escalate]:
    return [e for e in c.effects if isinstance(e, Escalate)]


# ---- 长辈模式 ------------------------------------------------------------------------------


def test_elderly_resident_answers_with_digits_and_short_words_only() -> None:
    c = Convo()
    reply = c.send("我不会弄", nlu("elderly_mode"))
    assert "慢慢来" in reply and "1 提建议  2 我的建议" in reply
    assert c.state.elderly
    steps = [
        ("1", "这件事是哪方面的?"),
        ("2", "哪个街道"),
        ("3", "现在是什么情况"),  # 3 江宁路街道
        ("常德路康定路口早上学生多,没有红绿灯,车开得很快", "怎么改"),
        ("在路口加装红绿灯和减速带", "能帮到谁"),
        ("1", "有照片吗"),
        ("1", "怎么称呼您"),
        ("王阿姨", "手机号"),
        ("13812345678", "当面聊聊"),
        ("嗯", "同意吗"),
        ("好的呀", "类别:交通出行"),
    ]
    for answer, expected in steps:
        reply = c.send(answer)
        assert expected in reply, (answer, reply)
        assert reply.splitlines()[-1] == HELP  # the way to a person is always the last line
        assert "第 " not in reply.splitlines()[0] or "步(共" not in reply  # no progress clutter
    # read back one field per message: 1 对 2 改
    assert "1 对  2 改" in reply and "问题" not in reply
    assert "地点:江宁路街道" in c.send("对")
    assert "标题" in c.send("1")
    reply = c.send("2")  # change the title
    assert c.node == "title"
    assert "标题:路口装红绿灯" in c.send("路口装红绿灯")
    while "现在提交吗" not in reply:
        reply = c.send("1")
    assert "1 确认提交  2 先不交" in reply
    c.send("1")
    (submit,) = [e for e in c.effects if isinstance(e, SubmitSuggestion)]
    assert submit.record.street == "江宁路街道" and submit.record.title == "路口装红绿灯"
    assert submit.record.contact.accepts_invitation
    c.submitted("JA-2026-000007")
    assert c.state.elderly  # remembered for the resident
    assert HELP in c.send("你好")


@pytest.mark.parametrize("word", ["是", "对", "好", "嗯", "行", "可以", "没错", "对对对", "好的呀", "嗯嗯"])
def test_elderly_yes_in_many_forms(word: str) -> None:
    c = to_problem(Convo())
    c.send("取消")
    c.send(word)
    assert c.node == "menu" and c.state.draft is None


@pytest.mark.parametrize("word", ["不", "不是", "不对", "算了", "不行", "不要"])
def test_elderly_no_in_many_forms(word: str) -> None:
    c = to_problem(Convo())
    c.send("取消")
    c.send(word)
    assert c.node == "problem" and c.state.draft is not None


def test_repeat_asks_the_same_question_again() -> None:
    c = to_problem(Convo())
    c.send("长辈模式")
    for text, understanding in (("什么?", None), ("没听懂", None), ("再说一遍", nlu("repeat"))):
        reply = c.send(text, understanding)
        assert "现在是什么情况" in reply and c.node == "problem"


def test_voice_switches_to_elderly_mode_and_a_transcript_is_the_answer() -> None:
    c = to_problem(Convo())
    voice = (Attachment(AttachmentKind.VOICE, "v-1"),)
    reply = c.send(attachments=voice)
    assert c.state.elderly and "听不懂语音" in reply and c.node == "problem"
    reply = c.send("彭浦新村那边的公园厕所太远了,老人走过去要二十分钟", attachments=voice)
    assert "您说的是:「彭浦新村那边的公园厕所太远了" in reply
    assert c.node == "proposal"


def test_two_failed_answers_in_a_row_offer_help_in_elderly_mode() -> None:
    c = Convo()
    c.send("你好")
    c.send("1")
    first = c.send("随便")
    assert not c.state.elderly and "没看明白" in first
    second = c.send("不知道")
    assert c.state.elderly and "简单的办法" in second and second.splitlines()[-1] == HELP
    assert c.node == "category"
    assert c.send("2") and c.node == "location"  # and a digit works


def test_zero_reaches_a_person_and_nine_a_call_back_at_every_step() -> None:
    c = to_problem(Convo())
    c.send("长辈模式")
    reply = c.send("0")
    assert escalations(c)[-1].reason == "asked" and "现在是什么情况" in reply and c.node == "problem"
    reply = c.send("9")
    assert c.node == "callback_phone" and "手机号" in reply
    reply = c.send("13912345678")
    (callback,) = [e for e in escalations(c) if e.reason == "callback"]
    assert callback.phone == "13912345678" and callback.street == "全区"
    assert "139****5678" in reply and c.node == "problem" and "第 3 步" in reply


def test_call_back_confirms_a_known_number() -> None:
    c = to_problem(Convo())
    c.state.draft.phone = "13812345678"  # type: ignore[union-attr]
    reply = c.send("能不能给我回个电话", nlu("request_callback", 0.98))
    assert c.node == "callback_confirm" and "138****5678" in reply
    c.send("对")
    assert escalations(c)[-1] == Escalate(reason="callback", phone="13812345678", street="全区")
    assert c.node == "problem"


def test_elderly_lists_never_number_past_eight() -> None:
    c = Convo()
    c.send("长辈模式")
    c.send("1")
    for message in c.replies:
        assert "9 " not in message.replace(HELP, "") and "\n0 " not in message
    reply = c.send("2")
    assert "8 更多街道" in reply and "9 " not in reply.replace(HELP, "")
    c.send("8")
    c.send("8")
    assert "1 全区" in c.replies[-1]
    c.send("1")
    assert c.state.draft is not None and c.state.draft.street == "全区"


# ---- interruptions -----------------------------------------------------------------------


def test_resident_interrupts_twice_and_the_form_resumes_at_the_same_step() -> None:
    c = to_problem(Convo())
    reply = c.send("怎么写才好?", nlu("how_to_write", 0.96))
    assert "怎样写好一条建议" in reply and "(我们接着写第 3 步)" in reply and c.node == "problem"
    reply = c.send("提交以后多久有回音")
    assert "5 个工作日" in reply and "第 3 步" in reply and c.node == "problem"
    c.send("公园里的厕所太远,老人和孩子上厕所要走二十分钟")
    assert c.node == "proposal"


def test_a_long_description_is_never_taken_for_an_aside() -> None:
    c = to_problem(Convo())
    text = "我想问问怎么写好建议,其实是小区门口的人行道太窄了,老人推车过不去,雨天还积水"
    c.send(text, nlu("how_to_write", 0.9))
    assert c.state.draft is not None and c.state.draft.problem == text


def test_status_and_a_person_in_the_middle_of_the_form() -> None:
    c = Convo()
    c.state.mine = []
    c = to_problem(c)
    reply = c.send("我的建议", nlu("my_suggestions", 0.9))
    assert "还没有提过建议" in reply and c.node == "problem"
    reply = c.send("人工")
    assert escalations(c)[-1].reason == "asked" and "第 3 步" in reply and c.node == "problem"


def test_unknown_input_twice_offers_help_and_a_person_instead_of_looping() -> None:
    c = Convo()
    c.send("你好")
    c.send("嗯哼嗯哼")
    reply = c.send("啦啦啦啦")
    assert "0 找工作人员" in reply


# ---- drafts ------------------------------------------------------------------------------


def test_returning_resident_after_a_while_is_asked_to_continue() -> None:
    c = to_problem(Convo())
    c.now += timedelta(hours=3)
    reply = c.send("你好")
    assert c.node == "resume" and "欢迎回来" in reply and "「交通出行」的建议" in reply
    reply = c.send("接着写")
    assert c.node == "problem" and "第 3 步" in reply


def test_returning_resident_may_start_over() -> None:
    c = to_problem(Convo())
    c.now += timedelta(days=2)
    c.send(event=PlatformEvent(EventKind.FOLLOW))
    assert c.node == "resume"
    reply = c.send("2")
    assert c.node == "category" and "第 1 步" in reply
    assert c.state.draft is not None and not c.state.draft.category


def test_a_quick_answer_is_not_a_return() -> None:
    c = to_problem(Convo())
    c.now += timedelta(minutes=5)
    c.send("公园里的厕所太远,老人和孩子上厕所要走二十分钟")
    assert c.node == "proposal"


# ---- the writing coach -------------------------------------------------------------------


def test_thin_problem_gets_one_example_and_can_be_kept() -> None:
    c = to_problem(Convo())
    reply = c.send("路口没红绿灯")
    assert c.node == "problem_more" and "比如" in reply and "就这样" in reply
    c.send("就这样")
    assert c.node == "proposal" and c.state.draft is not None and c.state.draft.problem == "路口没红绿灯"


def test_thin_problem_addition_is_appended() -> None:
    c = to_problem(Convo())
    c.send("路口没红绿灯")
    c.send("常德路康定路口,早上 8 点学生多")
    assert c.state.draft is not None
    assert c.state.draft.problem == "路口没红绿灯,常德路康定路口,早上 8 点学生多"
    assert c.node == "proposal"


def test_proposal_without_an_action_is_coached_and_a_title_is_proposed() -> None:
    c = to_problem(Convo())
    c.send("常德路康定路口早上学生多,没有红绿灯,车速很快")
    reply = c.send("太危险了真的受不了")
    assert c.node == "proposal_more" and "理解您着急的心情" in reply
    reply = c.send("建议加装红绿灯和减速带")
    assert "标题:「加装红绿灯和减速带」" in reply and c.node == "effect"
    assert c.state.draft is not None and c.state.draft.proposal == "太危险了真的受不了,建议加装红绿灯和减速带"


def test_emotion_only_problem_is_coached() -> None:
    c = to_problem(Convo())
    reply = c.send("太差了气死人")
    assert "理解您着急的心情" in reply


def test_free_text_at_the_menu_proposes_a_category_and_keeps_the_text() -> None:
    c = Convo()
    c.send("你好")
    text = "常德路康定路口没有红绿灯,孩子过马路很危险"
    reply = c.send(text, nlu(None, 0.2, "transport", 0.71))
    assert "这条建议看起来属于「交通出行」,对吗?" in reply and c.node == "category_guess"
    c.send("对")
    assert c.node == "location"
    reply = c.send("常德路康定路口", streets("江宁路街道"))
    assert "我记下了" in reply and text in reply and c.node == "proposal"
    assert c.state.draft is not None and c.state.draft.problem == text and c.state.draft.category == "transport"


def test_free_text_at_the_category_step_and_a_wrong_guess() -> None:
    c = Convo()
    c.send("你好")
    c.send("1")
    c.send("公园厕所太远了", nlu(None, 0.2, "urban", 0.6))
    assert c.node == "category_guess"
    reply = c.send("不对")
    assert c.node == "category" and "哪方面" in reply
    c.send("3")
    assert c.state.draft is not None and c.state.draft.category == "environment"
    assert c.state.draft.problem == "公园厕所太远了"


# ---- not a suggestion --------------------------------------------------------------------


def test_private_complaint_is_explained_and_can_become_a_suggestion() -> None:
    c = Convo()
    c.send("你好")
    reply = c.send("我家楼上漏水了谁来管", nlu("private_complaint", 0.91))
    assert "12345" in reply and c.node == "not_suggestion"
    assert "1 打 12345\n2 写成建议" in reply
    reply = c.send("1")
    assert "24 小时" in reply and c.node == "menu"
    c.send("我家楼上漏水了谁来管", nlu("private_complaint", 0.91))
    c.send("2")
    assert c.node == "category" and c.state.draft is not None
    assert c.state.draft.problem == "我家楼上漏水了谁来管"


@pytest.mark.parametrize(
    ("text", "number", "understanding"),
    [
        ("着火了", "119", None),
        ("楼道里冒烟了,好像有煤气味", "119", None),
        ("有人晕倒了", "120", None),
        ("有人拿着刀", "110", None),
        ("快来人啊出事了", "110", nlu("emergency", 0.9)),
    ],
)
def test_emergency_is_answered_at_once_and_keeps_the_draft(text: str, number: str,
                                                            understanding: Understanding | None) -> None:
    c = to_problem(Convo())
    reply = c.send(text, understanding)
    assert number in reply.splitlines()[1] or number in reply
    assert c.replies[0].startswith("这是紧急情况")
    assert escalations(c)[-1] == Escalate(reason="emergency", urgent=True, street="全区")
    assert c.node == "menu" and c.state.draft is not None and c.state.draft.category == "transport"
    reply = c.send("接着写")
    assert c.node == "problem"


def test_a_past_fire_in_a_description_is_not_an_emergency() -> None:
    c = to_problem(Convo())
    c.send("去年小区着火过,消防车进不来")
    assert not escalations(c) and c.node in ("proposal", "problem_more")


# ---- English -----------------------------------------------------------------------------


def test_english_resident_whole_form() -> None:
    c = Convo()
    assert "Hello" in c.send("hi", lang="en")
    assert "Step 1 of 8" in c.send("1")
    assert "Step 2 of 8" in c.send("2")
    c.send("Yanping Road", streets("静安寺街道"))
    reply = c.send("The bike lane on Yanping Road is always blocked by parked cars in the morning")
    assert "Step 4 of 8" in reply
    reply = c.send("Please add bollards to keep cars out of the bike lane")
    assert "title" in reply and "Step 5 of 8" in reply
    for text in ("skip", "skip", "Tom", "skip", "I agree"):
        c.send(text)
    assert "Please check your suggestion" in c.replies[0]
    c.send("confirm")
    (submit,) = [e for e in c.effects if isinstance(e, SubmitSuggestion)]
    assert submit.record.language == "en" and submit.record.title.startswith("Add bollards")
    assert "JA-2026-000009" in c.submitted("JA-2026-000009")


def test_switching_language_mid_form_reasks_in_the_other_language() -> None:
    c = to_problem(Convo())
    reply = c.send("English")
    assert c.state.lang == "en" and "Step 3 of 8" in reply
    reply = c.send("中文")
    assert c.state.lang == "zh" and "第 3 步" in reply
    c.send("换成英文", nlu("switch_language", 0.95, language="en"))
    assert c.state.lang == "en"


# ---- my suggestions ----------------------------------------------------------------------


def submitted(c: Convo, suggestion_id: str) -> Convo:
    c = to_problem(c)
    for text in ("公园里的厕所太远了老人不方便", "建议多建几个适老厕所", "跳过", "跳过", "匿名", "同意", "确认"):
        c.send(text)
    c.submitted(suggestion_id)
    return c


def test_my_suggestions_lists_status_and_shows_history() -> None:
    c = submitted(Convo(), "JA-2026-000123")
    c.send(event=PlatformEvent(EventKind.STATUS_CHANGED, {"id": "JA-2026-000123", "status": "accepted"}))
    reply = c.send("我的建议", nlu("my_suggestions"))
    assert "JA-2026-000123" in reply and "已受理" in reply
    reply = c.send("查进度 JA-2026-000123", nlu("check_status", suggestion_id="JA-2026-000123"))
    assert "现在:已受理" in reply and "5月17日 已提交" in reply and "已受理" in reply.splitlines()[-1] + reply
    assert "JA-2026-000123" in c.send("123号")
    assert "没有找到「JA-2026-000999」" in c.send("查进度 JA-2026-000999", nlu("check_status", 0.9))


# ---- backend events ----------------------------------------------------------------------


def test_invitation_mid_form_is_answered_then_the_form_resumes() -> None:
    c = submitted(Convo(), "JA-2026-000123")
    c = to_problem(c)
    invitation = {"id": "JA-2026-000123", "invitation_id": "inv-1", "when": "5月20日 下午 2 点",
                  "where": "静安区人民建议征集办公室", "contact": "李老师"}
    reply = c.send(event=PlatformEvent(EventKind.INVITATION, invitation))
    assert c.node == "invitation" and "5月20日 下午 2 点" in reply and "能参加" in reply
    reply = c.send("好的")
    reply_effect = SendToBackend("JA-2026-000123", "invitation_reply", {"invitation_id": "inv-1", "accepted": True})
    assert reply_effect in c.effects
    assert "会参加" in reply and "(我们接着写第 3 步)" in reply and c.node == "problem"


def test_follow_up_question_is_answered_by_the_next_free_text() -> None:
    c = submitted(Convo(), "JA-2026-000123")
    c = to_problem(c)
    c.send("路口没红绿灯")
    assert c.node == "problem_more"
    question = {"id": "JA-2026-000123", "question_id": "q-1", "text": "厕所大概需要几个坑位?"}
    reply = c.send(event=PlatformEvent(EventKind.QUESTION, question))
    assert c.node == "question" and "几个坑位" in reply
    reply = c.send("至少四个,要有无障碍的")
    answer = SendToBackend("JA-2026-000123", "answer", {"question_id": "q-1", "text": "至少四个,要有无障碍的"})
    assert answer in c.effects
    assert c.node == "problem_more" and "已经转给工作人员" in reply


def test_status_push_in_the_middle_of_the_form_keeps_the_place() -> None:
    c = submitted(Convo(), "JA-2026-000123")
    c = to_problem(c)
    reply = c.send(event=PlatformEvent(EventKind.STATUS_CHANGED, {"id": "JA-2026-000123", "status": "adopted"}))
    assert "已采纳" in reply and "停在第 3 步" in reply and c.node == "problem"
    c.send("公园里的厕所太远,老人和孩子上厕所要走二十分钟")
    assert c.node == "proposal"


def test_backend_messages_wait_while_the_resident_is_busy() -> None:
    c = submitted(Convo(), "JA-2026-000123")
    c = to_problem(c)
    c.send("取消")
    question = {"id": "JA-2026-000123", "question_id": "q-2", "text": "具体是哪个公园?"}
    assert "我的建议" in c.send(event=PlatformEvent(EventKind.QUESTION, question))
    assert c.node == "cancel_confirm"
    c.send("否")
    c.send("我的建议", nlu("my_suggestions"))
    assert c.node == "question"
    c.send("静安公园")
    assert any(isinstance(e, SendToBackend) and e.body["question_id"] == "q-2" for e in c.effects)


def test_unknown_status_from_the_backend_does_not_crash() -> None:
    c = Convo()
    c.send("你好")
    assert c.send(event=PlatformEvent(EventKind.STATUS_CHANGED, {"id": "JA-1", "status": "weird"}))


# ---- catalogues --------------------------------------------------------------------------


def test_catalogues_mirror_each_other_and_every_text_formats() -> None:
    zh, en = catalog.keys("zh"), catalog.keys("en")
    assert zh == en
    for lang in catalog.LANGUAGES:
        for key in zh["text"]:
            template = catalog._load(lang)["text"][key]
            names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
            assert catalog.text(lang, key, **dict.fromkeys(names, "x"))


def test_back_leaves_an_aside_where_the_resident_was() -> None:
    c = to_problem(Convo())
    c.send("长辈模式")
    c.send("9")
    assert c.node == "callback_phone"
    reply = c.send("返回")
    assert c.node == "problem" and "第 3 步" in reply
    assert not [e for e in escalations(c) if e.reason == "callback"]


def test_a_rubbish_bin_problem_is_not_mistaken_for_an_outburst() -> None:
    """垃圾桶 contains 垃圾 (also a curse word): a concrete description must pass the coach."""
    from dialogs.coach import problem_gap
    from dialogs.understanding import Understanding

    assert problem_gap("小区垃圾桶太少,每天傍晚都满出来,味道很大", Understanding(), "zh") is None
    assert problem_gap("太垃圾了", Understanding(), "zh") == "coach_emotion"
