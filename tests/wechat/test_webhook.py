"""The /wechat webhook over real HTTP with real signed (and encrypted) XML."""

from __future__ import annotations

import asyncio
from pathlib import Path

from defusedxml.ElementTree import fromstring

from bot.speech import HttpSpeechToText
from dialogs.messages import ConversationKey, Outbound
from dialogs.understanding import NOTHING, Understanding
from tests.fakes import FakeUnderstander
from tests.support.wechat_api import ACCOUNT, TOKEN, WeChatResident, sign
from tests.wechat.conftest import eventually, submitted_record, world


class SlowUnderstander(FakeUnderstander):
    """Understands nothing, slowly: a turn longer than the reply budget."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def parse(self, text: str, lang: str = "zh") -> Understanding:
        self.calls.append(text)
        await asyncio.sleep(self.delay)
        return NOTHING


async def test_whole_suggestion_in_safe_mode_records_the_qr_scene(data_dir: Path) -> None:
    async with world(data_dir, "safe") as w:  # the real NLU
        zhang = w.resident("o-zhang-safe")
        welcome = await zhang.event("subscribe", "qrscene_point-nanjingxi-07")
        assert welcome.status == 200 and "<Encrypt>" in welcome.body and "o-zhang-safe" not in welcome.body
        assert welcome.fields["ToUserName"] == "o-zhang-safe" and welcome.fields["FromUserName"] == ACCOUNT
        assert "欢迎" in welcome.text and "1 提建议" in welcome.text
        assert "第 1 步" in (await zhang.say("1")).text
        assert "第 2 步" in (await zhang.say("3")).text  # 环境与绿化
        assert "第 3 步" in (await zhang.say("全区")).text
        await zhang.say("公园里的厕所离得太远,老人和小孩上厕所很不方便")
        await zhang.say("建议在大的公园里多建几个适老适幼的厕所")
        await zhang.say("老人孩子出门更放心")
        await zhang.say("跳过")
        await zhang.say("张阿姨")
        await zhang.say("13912345678")
        await zhang.say("1")
        summary = (await zhang.say("1")).text
        assert "1 类别:环境与绿化" in summary and "139****5678" in summary
        receipt = (await zhang.say("确认")).text
        suggestion_id = receipt.split("建议编号 ")[1].split("。")[0]
        record = await submitted_record(w.bot, suggestion_id)
        assert record["channel"] == "wechat" and record["source"] == "point-nanjingxi-07"
        assert record["category"] == "environment" and record["street"] == "全区"
        assert record["contact"]["phone"] == "13912345678" and record["privacy_consent"]
        assert "o-zhang-safe" not in record["resident_ref"]
        assert w.server.custom == []  # everything went in passive replies


async def test_plain_and_compatible_modes_answer_in_kind(data_dir: Path) -> None:
    for mode in ("plain", "compatible"):
        async with world(data_dir, mode, FakeUnderstander()) as w:
            reply = await w.resident(f"o-{mode}").say("你好")
            assert reply.status == 200 and "欢迎" in reply.text
            assert ("<Encrypt>" in reply.body) == (mode == "compatible")
            if mode == "compatible":  # the same account also accepts a plain request
                reply = await w.resident("o-compat-plain", mode="plain").say("你好")
                assert reply.status == 200 and "<Encrypt>" not in reply.body and "欢迎" in reply.text


async def test_get_verification_echoes_only_a_signed_request(data_dir: Path) -> None:
    async with world(data_dir, "safe", FakeUnderstander()) as w:
        query = {"signature": sign(TOKEN, "1700000000", "abc"), "timestamp": "1700000000", "nonce": "abc",
                 "echostr": "echo-123"}
        async with w.session.get(f"{w.base}/wechat", params=query) as resp:
            assert resp.status == 200 and await resp.text() == "echo-123"
        async with w.session.get(f"{w.base}/wechat", params={**query, "signature": "0" * 40}) as resp:
            assert resp.status == 403


async def test_forged_wrong_app_malformed_and_hostile_xml_get_4xx(data_dir: Path) -> None:
    async with world(data_dir, "safe", FakeUnderstander()) as w:
        alice = w.resident("o-alice")
        query, body = alice.envelope(alice.fields("text", Content="你好"))
        assert (await alice.post_raw({**query, "signature": "f" * 40}, body)).status == 403
        assert (await alice.post_raw({**query, "msg_signature": "f" * 40}, body)).status == 403
        plain_query = {k: v for k, v in query.items() if k not in ("encrypt_type", "msg_signature")}
        assert (await alice.post_raw(plain_query, b"<xml><Content>hi</Content></xml>")).status == 403  # safe mode
        stranger = w.resident("o-alice", app_id="wxffffffffffffffff")  # same key, another AppId
        assert (await stranger.post(stranger.fields("text", Content="你好"))).status == 403

        def signed(raw: bytes) -> tuple[dict[str, str], bytes]:
            return {**query, "msg_signature": sign(TOKEN, query["timestamp"], query["nonce"], "x")}, raw

        laughs = (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b"<xml><Encrypt>&lol2;</Encrypt></xml>"
        )
        external = (b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                    b"<xml><Encrypt>&xxe;</Encrypt></xml>")
        for raw, status in (
            (laughs, 400),
            (external, 400),
            (b"<xml><Encrypt>unterminated", 400),
            (b"not xml at all", 400),
            (b"<html><Encrypt>x</Encrypt></html>", 400),
            (b"<xml><Encrypt>x</Encrypt>" + b"<Pad>" + b"a" * 70_000 + b"</Pad></xml>", 413),
            (b"<xml><Encrypt>not-base64!!</Encrypt></xml>", 403),  # its signature is checked first
        ):
            reply = await alice.post_raw(*signed(raw))
            assert reply.status == status, (raw[:40], reply.status, reply.body)
        undecryptable_query, _ = signed(b"")
        undecryptable_query["msg_signature"] = sign(TOKEN, query["timestamp"], query["nonce"], "bm90LWFlcw==")
        reply = await alice.post_raw(undecryptable_query, b"<xml><Encrypt>bm90LWFlcw==</Encrypt></xml>")
        assert reply.status == 400
        # The inner XML is checked as well: a well-encrypted hostile or incomplete message.
        for inner in (laughs, b"<xml><MsgType>text</MsgType></xml>", b"<xml><FromUserName>x</FromUserName></xml>"):
            sealed_query, sealed = _reseal(alice, inner)
            assert (await alice.post_raw(sealed_query, sealed)).status == 400, inner[:40]
        async with w.session.get(f"{w.base}/healthz") as resp:
            assert resp.status == 200


def _reseal(resident: WeChatResident, inner: bytes) -> tuple[dict[str, str], bytes]:
    """An envelope around arbitrary inner XML, correctly encrypted and signed."""
    timestamp, nonce = "1700000000", "nonce-x"
    sealed = resident.crypto.encrypt_message(inner.decode(), nonce, timestamp)
    encrypt = fromstring(sealed).findtext("Encrypt")
    query = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
             "encrypt_type": "aes", "msg_signature": sign(TOKEN, timestamp, nonce, encrypt)}
    return query, f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()


async def test_three_redeliveries_of_one_msgid_are_one_turn(data_dir: Path, redis_for: dict[str, object]) -> None:
    understander = FakeUnderstander()
    async with world(data_dir, "safe", understander, **redis_for) as w:
        bob = w.resident("o-bob")
        await bob.say("你好")
        fields = bob.fields("text", Content="我想说说小区门口的路灯", MsgId="424242")
        replies = await asyncio.gather(*(bob.post(fields) for _ in range(4)))
        assert all(r.status == 200 for r in replies)
        assert understander.calls.count("我想说说小区门口的路灯") == 1
        passive = [r.text for r in replies if r.text]
        if not passive:  # a re-delivery handed the answer to the running turn: one CS delivery
            await eventually(lambda: len(w.server.custom) >= 1)
            await asyncio.sleep(0.3)
        sent = w.server.texts_to("o-bob")
        # Either passive replies (WeChat keeps the one it still waits for; all are the same
        # recorded answer) or, once a re-delivery handed it over, one customer-service delivery.
        assert (len(set(passive)) == 1 and not sent) or (not passive and len(sent) == 1), (passive, sent)
        # Sequential re-deliveries after the answer: still the one turn, answered again.
        again = await bob.post(fields)
        assert again.status == 200 and understander.calls.count("我想说说小区门口的路灯") == 1


async def test_slow_turn_reaches_the_resident_by_customer_service_exactly_once(
    data_dir: Path, redis_for: dict[str, object]
) -> None:
    slow = SlowUnderstander(delay=0.8)
    async with world(data_dir, "safe", slow, wechat_reply_budget_s=0.2, **redis_for) as w:
        carol = w.resident("o-carol")
        fields = carol.fields("text", Content="你好呀,我想提个建议")
        first = await carol.post(fields)
        assert first.status == 200 and first.body == "success"
        # WeChat gives up after 5 s and re-delivers: no second turn, no second answer.
        retries = await asyncio.gather(carol.post(fields), carol.post(fields), carol.post(fields))
        assert all(r.body == "success" for r in retries)
        await eventually(lambda: len(w.server.custom) >= 1)
        await asyncio.sleep(1.0)
        assert len(w.server.custom) == 1 and slow.calls.count("你好呀,我想提个建议") == 1
        (sent,) = w.server.custom  # welcome and menu in one message: the window allows only 5
        assert sent["touser"] == "o-carol" and sent["msgtype"] == "msgmenu"
        assert "欢迎" in sent["msgmenu"]["head_content"] and "请问您要办什么事" in sent["msgmenu"]["head_content"]
        assert [i["id"] for i in sent["msgmenu"]["list"]][:2] == ["/menu:suggest", "/menu:mine"]
        # Clicking a msgmenu item comes back as text with bizmsgmenuid = the choice's payload.
        w.bot.pipeline.understander = FakeUnderstander()
        w.bot.wechat.budget_s = 4.0  # type: ignore[union-attr]
        reply = await carol.say("提建议", bizmsgmenuid="/menu:suggest")
        assert "第 1 步" in reply.text


async def test_events_scan_menu_and_unsubscribe(data_dir: Path) -> None:
    async with world(data_dir, "safe", FakeUnderstander()) as w:
        dave = w.resident("o-dave")
        assert "欢迎" in (await dave.event("subscribe")).text
        assert "欢迎" in (await dave.event("SCAN", "point-daning-03")).text
        envelope = await w.bot.pipeline.snapshot(_key("o-dave"))
        assert envelope.state.source == "point-daning-03"
        assert "第 1 步" in (await dave.event("CLICK", "suggest")).text
        assert "怎样写好一条建议" in (await dave.event("CLICK", "howto")).text
        unsub = await dave.event("unsubscribe")
        assert unsub.status == 200 and unsub.body == "success"
        result = await w.bot.wechat.channel.send("o-dave", [Outbound("进展")])  # type: ignore[union-attr]
        assert result.outcome == "unreachable" and w.server.custom == []
        # A menu VIEW (link) event needs no turn.
        view = await dave.post(dave.fields("event", Event="VIEW", EventKey="https://example.org"))
        assert view.body == "success"


async def test_image_location_and_voice(data_dir: Path) -> None:
    async with world(data_dir, "safe", FakeUnderstander(), stt_url="") as w:
        erin = w.resident("o-erin")
        await erin.say("你好")
        await erin.say("1")
        await erin.say("3")
        location = await erin.post(erin.fields("location", Location_X="31.2304", Location_Y="121.4737", Scale="15",
                                               Label="上海市静安区南京西路"))
        assert "南京西路" in location.text
        envelope = await w.bot.pipeline.snapshot(_key("o-erin"))
        assert envelope.state.draft is not None and envelope.state.draft.location_detail == "上海市静安区南京西路"
        await erin.say("1")
        photo = await erin.post(erin.fields("image", PicUrl="http://mmbiz.qpic.cn/x.jpg", MediaId="media-photo-1"))
        assert "照片收到了" in photo.text
        envelope = await w.bot.pipeline.snapshot(_key("o-erin"))
        assert envelope.state.draft is not None
        assert envelope.state.draft.photos[0]["ref"] == "media-photo-1"
        assert envelope.state.draft.photos[0]["meta"]["url"] == "http://mmbiz.qpic.cn/x.jpg"
        # Voice without recognition and without a speech service: answered kindly.
        voice = await erin.post(erin.fields("voice", MediaId="media-voice-1", Format="amr"))
        assert "打字" in voice.text
        # Voice with WeChat's own recognition: taken as text.
        recognised = await erin.post(erin.fields("voice", MediaId="media-voice-2", Format="amr",
                                                 Recognition="路口没有红绿灯,早上学生很多,车开得很快"))
        assert recognised.status == 200
        envelope = await w.bot.pipeline.snapshot(_key("o-erin"))
        assert envelope.state.draft is not None
        assert envelope.state.draft.problem == "路口没有红绿灯,早上学生很多,车开得很快"


async def test_voice_is_transcribed_by_the_speech_service(data_dir: Path) -> None:
    async with world(data_dir, "safe", FakeUnderstander()) as w:
        w.server.media["media-voice-9"] = (b"#!AMR\n fake audio", "audio/amr")
        w.server.stt_text = "1"  # the resident said "one": the menu's first choice
        w.bot.wechat.stt = HttpSpeechToText(f"{w.api_base}/stt")  # type: ignore[union-attr]
        frank = w.resident("o-frank")
        await frank.say("你好")
        reply = await frank.post(frank.fields("voice", MediaId="media-voice-9", Format="amr"))
        assert w.server.stt_calls == [b"#!AMR\n fake audio"]
        assert reply.status == 200 and "城市建设与管理" in reply.text  # "1" chose 提建议
        envelope = await w.bot.pipeline.snapshot(_key("o-frank"))
        assert envelope.state.draft is not None
        # Media that cannot be downloaded: the turn goes on with the voice attachment alone.
        reply = await frank.post(frank.fields("voice", MediaId="media-missing", Format="amr"))
        assert reply.status == 200 and reply.text and len(w.server.stt_calls) == 1


def _key(openid: str) -> ConversationKey:
    return ConversationKey("wechat", openid)
