"""Scripted whole conversations over the REST channel with the real NLU (issue 4): an elderly
resident answering with digits and short words, one who interrupts twice, a returning resident
with a draft, an English resident, a private complaint, an emergency, my suggestions and the
backend's invitation and follow-up question."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from dialogs.messages import ConversationKey, EventKind, Inbound, PlatformEvent
from tests.conversations.conftest import Chat, escalations

HELP = "回复 0 找工作人员,回复 9 请工作人员给您回电话"


def receipt_id(text: str) -> str:
    return text.split("建议编号 ")[1].split("。", maxsplit=1)[0]


async def test_elderly_resident_with_digits_and_short_words(chat: Chat) -> None:
    async with chat() as (bot, resident):
        grandma = resident("wang-ayi")
        reply = await grandma.say("我不会弄")
        assert "慢慢来" in reply and "1 提建议  2 我的建议" in reply
        assert reply.splitlines()[-1] == HELP
        script = [
            ("1", "这件事是哪方面的?"),
            ("3", "哪个街道"),  # 3 环境与绿化
            ("8", "更多街道"),
            ("5", "现在是什么情况"),  # page 2, 5: 彭浦新村街道
            ("什么?", "现在是什么情况"),  # asked again
            ("公园里的厕所太远了,老人走过去要二十分钟", "怎么改"),
            ("公园里多建一个厕所", "能帮到谁"),
            ("1", "有照片吗"),
            ("1", "怎么称呼您"),
            ("王阿姨", "手机号"),
            ("13812345678", "当面聊聊"),
            ("行", "同意吗"),
            ("对", "类别:环境与绿化"),
        ]
        for answer, expected in script:
            reply = await grandma.say(answer)
            assert expected in reply, (answer, reply)
            assert reply.splitlines()[-1] == HELP, (answer, reply)
        reply = await grandma.say("9")  # a call back, in the middle of the read-back
        assert "138****5678" in reply
        reply = await grandma.say("1")
        assert "打 138****5678 给您" in reply and "类别:环境与绿化" in reply
        callback = [e for e in await escalations(bot) if e["reason"] == "callback"]
        assert callback and callback[0]["phone"] == "13812345678" and callback[0]["street"] == "彭浦新村街道"
        while "现在提交吗" not in reply:
            reply = await grandma.say("1")
        reply = await grandma.say("1")
        assert "提交成功" in reply and reply.splitlines()[-1] == HELP
        envelope = await bot.pipeline.snapshot(ConversationKey("rest", "wang-ayi"))
        assert envelope.state.elderly and envelope.state.mine[0].id == receipt_id(reply)
        reply = await grandma.say("0")
        assert "工作人员" in reply and escalations and (await escalations(bot))[-1]["reason"] == "asked"


async def test_resident_who_interrupts_twice(chat: Chat) -> None:
    async with chat() as (bot, resident):
        li = resident("li-xiansheng")
        await li.say("你好")
        await li.say("我想提个建议")
        await li.press("交通出行")
        reply = await li.say("常德路康定路口")
        if "第 2 步" in reply:  # the two roads span several streets: pick one
            reply = await li.press("江宁路街道")
        assert "第 3 步" in reply
        reply = await li.say("怎么写好建议")
        assert "怎样写好一条建议" in reply and "(我们接着写第 3 步)" in reply
        reply = await li.say("提交以后多久有回音?")
        assert "5 个工作日" in reply and "第 3 步" in reply
        reply = await li.say("常德路康定路口早上 8 点学生多,没有信号灯,车速很快,孩子过马路很危险")
        assert "第 4 步" in reply
        reply = await li.say("建议加装红绿灯和减速带")
        assert "标题" in reply and "第 5 步" in reply
        for text in ("跳过", "跳过", "匿名"):
            await li.say(text)
        summary = await li.press("同意")
        assert "1 类别:交通出行" in summary
        assert "提交成功" in await li.press("确认提交")
        assert not [e for e in await escalations(bot) if e["reason"] != "asked"]


async def test_returning_resident_with_a_draft(chat: Chat, redis_url: str) -> None:
    async with chat(redis_url=redis_url) as (bot, resident):
        await bot.redis.flushdb()
        zhao = resident("zhao-ayi")
        await zhao.say("你好")
        await zhao.press("提建议")
        await zhao.press("环境与绿化")
        await zhao.say("全区")
        assert "请问您要办什么事" in await zhao.say("菜单")
        reply = await zhao.press("提建议")  # choosing 提建议 again
        assert "「环境与绿化」的建议还没写完" in reply
        await zhao.press("接着写")
    # The process restarts; the resident comes back later (Context.away_after, 30 minutes by
    # default, made zero here so that any message counts as coming back).
    async with chat(redis_url=redis_url) as (bot, resident):
        usual = bot.pipeline.context
        bot.pipeline.context = lambda: replace(usual(), away_after=timedelta(0))
        zhao = resident("zhao-ayi")
        reply = await zhao.say("你好")
        assert "欢迎回来" in reply and "写到了第 3 步" in reply
        bot.pipeline.context = usual
        reply = await zhao.press("接着写")
        assert "第 3 步" in reply
        assert "第 4 步" in await zhao.say("公园里的厕所离得太远,老人和小孩上厕所很不方便")


async def test_english_resident(chat: Chat) -> None:
    async with chat() as (_, resident):
        tom = resident("tom", language="en")
        reply = await tom.say("hi, can I suggest something about bike lanes?")
        assert "Step 1 of 8" in reply
        await tom.press("Transport")
        reply = await tom.say("district-wide")
        assert "Step 3 of 8" in reply
        reply = await tom.say("Bike lanes are often blocked by parked delivery vans during rush hour")
        assert "Step 4 of 8" in reply
        reply = await tom.say("Please install bollards along the bike lanes and fine vans that park there")
        assert "Step 5 of 8" in reply and "title" in reply
        for text in ("skip", "skip", "Tom", "skip"):
            await tom.say(text)
        summary = await tom.press("I agree")
        assert "Please check your suggestion" in summary and "1 Category: Transport" in summary
        receipt = await tom.press("Confirm and submit")
        assert "Your suggestion number is JA-" in receipt
        reply = await tom.say("中文")
        assert "我们用中文交流" in reply


async def test_private_complaint(chat: Chat) -> None:
    async with chat() as (bot, resident):
        zhou = resident("zhou")
        await zhou.say("你好")
        reply = await zhou.say("我家楼上漏水了谁来管")
        assert "12345" in reply and [b["title"] for b in zhou.buttons()] == ["打 12345", "写成建议"]
        reply = await zhou.press("打 12345")
        assert "24 小时" in reply
        await zhou.say("我家楼上漏水了谁来管")
        reply = await zhou.press("写成建议")
        assert "第 1 步" in reply
        assert not await escalations(bot)


async def test_emergency(chat: Chat) -> None:
    async with chat() as (bot, resident):
        sun = resident("sun")
        await sun.say("你好")
        await sun.press("提建议")
        await sun.press("社区与物业")
        await sun.say("全区")
        reply = await sun.say("着火了")
        assert reply.startswith("这是紧急情况") and "119" in reply and "接着写" in reply
        (emergency,) = await escalations(bot)
        assert emergency["reason"] == "emergency" and emergency["urgent"] == "1"
        assert "第 3 步" in await sun.say("接着写")


async def test_my_suggestions_and_the_backends_questions(chat: Chat) -> None:
    async with chat() as (bot, resident):
        qian = resident("qian")
        await qian.say("你好")
        await qian.press("提建议")
        await qian.press("养老与社会服务")
        await qian.say("全区")
        for text in ("社区食堂太少,老人吃饭要走很远", "每个街道至少开一家社区长者食堂", "跳过", "跳过", "匿名"):
            await qian.say(text)
        await qian.press("同意")
        sid = receipt_id(await qian.press("确认提交"))
        key = ConversationKey("rest", "qian")

        async def event(kind: EventKind, data: dict[str, object]) -> str:
            turn = await bot.pipeline.handle(Inbound(key, f"ev-{kind}-{len(data)}", event=PlatformEvent(kind, data)))
            return "\n".join(m.text for m in turn.messages)

        assert "已受理" in await event(EventKind.STATUS_CHANGED, {"id": sid, "status": "accepted"})
        reply = await qian.say("我的建议")
        assert sid in reply and "已受理" in reply
        number = str(int(sid.rsplit("-", 1)[1]))
        reply = await qian.say(f"查进度 {sid}")
        assert "现在:已受理" in reply and "已提交" in reply
        assert sid in await qian.say(f"{number}号")
        assert "没有找到" in await qian.say("查进度 JA-2020-999999")
        # A new suggestion in progress, then the backend's invitation and question arrive.
        await qian.press("提建议")
        await qian.press("交通出行")
        invitation = {"id": sid, "invitation_id": "inv-9", "when": "6月3日 上午 10 点", "where": "区信访办",
                      "contact": "陈老师"}
        assert "6月3日 上午 10 点" in await event(EventKind.INVITATION, invitation)
        reply = await qian.say("/yes")  # the invitation's 能参加 button
        assert "会参加" in reply and "(我们接着写第 2 步)" in reply
        assert "几家" in await event(EventKind.QUESTION, {"id": sid, "question_id": "q-3", "text": "您觉得先开几家?"})
        reply = await qian.say("先开三家,在老人多的街道")
        assert "已经转给工作人员" in reply and "第 2 步" in reply
