"""The /telegram webhook: secret token, de-duplication, re-sending, albums, voice, commands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.speech import HttpSpeechToText
from connectors.telegram.albums import PENDING_KEY
from connectors.telegram.channel import UNREACHABLE_KEY
from dialogs.messages import ConversationKey
from dialogs.understanding import Understander
from tests.support.app import serve
from tests.support.telegram_api import LocalBotApi, TgUser
from tests.telegram.conftest import Resident, Rig, rig_for


async def to_problem_step(resident: Resident) -> None:
    await resident.say("/start")
    await resident.press("Make a suggestion")
    await resident.press("Environment & greening")
    assert "Step 3 of 8" in await resident.say("district-wide")


async def test_wrong_or_missing_secret_is_refused_with_401_and_nothing_happens(rig: Rig) -> None:
    update = TgUser(7101).text(rig.next_id(), "/start")
    assert await rig.post(update, secret="wrong-secret") == 401
    assert await rig.post(update, secret=None) == 401
    assert rig.api.sent() == []
    assert await rig.post(update) == 200
    assert len(rig.api.sent()) == 2  # welcome + menu


async def test_not_an_update_is_a_400(rig: Rig) -> None:
    assert await rig.post({"update_id": "x", "message": 3}) == 400


async def test_duplicate_update_id_is_one_turn_and_one_answer(rig: Rig) -> None:
    user = TgUser(7102)
    update = user.text(rig.next_id(), "/start")
    statuses = await asyncio.gather(*(rig.post(update) for _ in range(3)))
    assert statuses == [200, 200, 200]
    assert await rig.post(update) == 200  # and once more, later
    assert len(rig.api.sent(user.id)) == 2
    state_answers = (await rig.bot.pipeline.snapshot(_key(user))).recent
    assert [m for m, _ in state_answers] == [f"tg:{update['update_id']}"]


async def test_failed_send_is_resent_on_redelivery_without_a_second_turn(rig: Rig) -> None:
    user = TgUser(7103)
    update = user.text(rig.next_id(), "/start")
    # The first answer message goes out, the second fails: Telegram gets a 500 and re-delivers.
    rig.api.fail("sendMessage", 500, "Internal Server Error", after=1)
    first = await rig.post(update)
    assert first == 500
    assert await rig.post(update) == 200
    texts = rig.api.texts(user.id)
    assert len(texts) == 2 and "welcome" in texts[0].lower()  # the welcome was not sent twice
    assert len([c for c in rig.api.calls if c.method == "sendMessage"]) == 3
    assert len((await rig.bot.pipeline.snapshot(_key(user))).recent) == 1
    # The third delivery finds the answer complete: nothing more is sent.
    assert await rig.post(update) == 200
    assert len(rig.api.texts(user.id)) == 2


async def test_album_of_three_photos_is_one_turn_with_three_attachments(rig: Rig) -> None:
    resident = Resident(rig, TgUser(7104))
    await to_problem_step(resident)
    first = rig.next_id()
    album = [resident.user.photo(first + n, f"photo-{n}", group="album-1") for n in range(3)]
    rig._next += 2
    # Each photo's update is acknowledged once persisted, before the album's turn runs.
    for update in album:
        assert await rig.post(update) == 200
    assert await rig.bot.redis.zcard(PENDING_KEY) == 1
    await rig.answered(first)
    texts = rig.api.texts(resident.user.id)[resident.seen :]
    assert texts[0] == "Photo received; it will be attached to your suggestion."
    assert sum("Photo received" in t for t in texts) == 1
    state = await rig.state(resident.user)
    assert [p["ref"] for p in state.draft.photos] == ["photo-0", "photo-1", "photo-2"]
    assert [m for m, _ in (await rig.bot.pipeline.snapshot(_key(resident.user))).recent][-1] == f"tg:{first}"
    # A re-delivered photo of the flushed album adds nothing; a late one gets its own turn.
    assert await rig.post(album[1]) == 200
    late = resident.user.photo(rig.next_id(), "photo-late", group="album-1")
    assert await rig.post(late) == 200
    state = await rig.state(resident.user)
    assert [p["ref"] for p in state.draft.photos][-2:] == ["photo-2", "photo-late"]
    assert len(state.draft.photos) == 4
    assert await rig.bot.redis.zcard(PENDING_KEY) == 0


async def test_album_buffered_before_a_crash_is_flushed_by_the_next_worker(
    api: LocalBotApi, data_dir: Path, nlu: Understander, redis_url: str
) -> None:
    resident_user = TgUser(7105)
    async with rig_for(api, data_dir, nlu, redis_url) as rig:
        resident = Resident(rig, resident_user)
        await to_problem_step(resident)
        rig.telegram.albums.window_s = 3600  # this worker will not flush it before it stops
        first = rig.next_id()
        rig._next += 1
        for n in range(2):
            assert await rig.post(resident.user.photo(first + n, f"p{n}", group="album-2")) == 200
    assert api.texts(resident_user.id)[-1].startswith("Step 3 of 8")
    # Another worker on the same Redis: once the album is due, its sweeper runs the turn.
    async with rig_for(api, data_dir, nlu, redis_url, fresh=False) as rig:
        await rig.bot.redis.zadd(PENDING_KEY, {"album-2": 0})
        await rig.answered(first)
        assert len((await rig.state(resident_user)).draft.photos) == 2
    assert "Photo received" in api.texts(resident_user.id)[-2]


async def test_voice_is_transcribed_and_kept_as_an_attachment(rig: Rig) -> None:
    heard: list[tuple[bytes, str, str]] = []

    async def stt(request: web.Request) -> web.Response:
        heard.append((await request.read(), request.content_type, request.query["lang"]))
        return web.json_response({"text": "The pavement on Yanping Road is broken and people trip over it"})

    app = web.Application()
    app.router.add_post("/stt", stt)
    async with serve(app) as stt_base:
        rig.telegram.speech = HttpSpeechToText(f"{stt_base}/stt")
        resident = Resident(rig, TgUser(7107))
        await to_problem_step(resident)
        rig.api.files["voice-1"] = b"OggS-fake-opus"
        answer = await resident.send(resident.user.voice(rig.next_id(), "voice-1", 14))
    assert heard == [(b"OggS-fake-opus", "audio/ogg", "en")]
    assert "Yanping Road" in "\n".join(answer)
    state = await rig.state(resident.user)
    assert state.draft.problem == "The pavement on Yanping Road is broken and people trip over it"
    assert state.node == "proposal"


async def test_voice_without_speech_to_text_is_answered_kindly(rig: Rig) -> None:
    resident = Resident(rig, TgUser(7108))
    await to_problem_step(resident)
    rig.api.files["voice-2"] = b"OggS"
    answer = "\n".join(await resident.send(resident.user.voice(rig.next_id(), "voice-2", 4)))
    assert "voice" in answer.lower()  # the engine's words for a voice it cannot hear
    assert (await rig.state(resident.user)).node == "problem"


async def test_deep_link_records_the_collection_point_and_commands_map_to_the_menu(rig: Rig) -> None:
    resident = Resident(rig, TgUser(7109, language_code="zh-CN"))
    assert "欢迎" in await resident.say("/start point_jingansi_07")
    assert (await rig.state(resident.user)).source == "jingansi_07"
    assert "怎样写好" in await resident.say("/help")
    assert "您还没有提过建议" in await resident.say("/status")
    await resident.press("提建议")
    assert "确定不写了吗" in await resident.say("/cancel")


async def test_foreign_contact_is_not_taken_as_the_residents_phone(rig: Rig) -> None:
    resident = Resident(rig, TgUser(7110))
    await to_problem_step(resident)
    await resident.say("The park toilets are too far away for the elderly and small children.")
    await resident.say("Build more toilets suitable for old people and children.")
    await resident.say("skip")
    await resident.say("skip")
    await resident.say("Anna")
    answer = "\n".join(await resident.send(resident.user.contact(rig.next_id(), "+8613812345678", own=False)))
    assert "doesn't look like a mainland mobile number" in answer
    assert (await rig.state(resident.user)).draft.phone == ""


async def test_blocking_and_writing_again_clears_the_unreachable_mark(rig: Rig) -> None:
    user = TgUser(7111)
    assert await rig.post(user.blocked(rig.next_id())) == 200
    assert await rig.bot.redis.sismember(UNREACHABLE_KEY, str(user.id))
    assert await rig.post(user.text(rig.next_id(), "/start")) == 200
    assert not await rig.bot.redis.sismember(UNREACHABLE_KEY, str(user.id))


async def test_group_chats_are_ignored(rig: Rig) -> None:
    update = TgUser(7112).text(rig.next_id(), "hello")
    update["message"]["chat"] = {"id": -100123, "type": "group", "title": "neighbours"}
    assert await rig.post(update) == 200
    assert rig.api.sent() == []


@pytest.fixture
async def rig_with_webhook_url(
    api: LocalBotApi, data_dir: Path, nlu: Understander
) -> AsyncIterator[Rig]:
    async with rig_for(api, data_dir, nlu, webhook_url="https://bot.example.org/telegram") as running:
        yield running


async def test_start_up_registers_the_webhook_with_its_secret_and_the_commands(rig_with_webhook_url: Rig) -> None:
    api = rig_with_webhook_url.api
    (hook,) = api.of("setWebhook")
    assert hook.params["url"] == "https://bot.example.org/telegram"
    assert hook.params["secret_token"] == "webhook-secret_42"
    assert hook.params["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
    by_lang = {c.params.get("language_code"): c.params["commands"] for c in api.of("setMyCommands")}
    assert [c["command"] for c in by_lang[None]] == ["start", "help", "status", "cancel", "lang"]
    assert by_lang["zh"][1]["description"] == "怎样写好一条建议"
    assert by_lang[None][1]["description"] == "How to write a good suggestion"


def _key(user: TgUser) -> ConversationKey:
    return ConversationKey("telegram", str(user.id))


async def test_lang_command_switches_the_conversation_language_both_ways(rig: Rig) -> None:
    resident = Resident(rig, TgUser(7113, language_code="zh-hans"))
    await resident.say("/start")
    assert (await rig.state(resident.user)).lang == "zh"
    assert "English" in await resident.say("/lang")
    assert (await rig.state(resident.user)).lang == "en"
    await resident.say("/lang")
    assert (await rig.state(resident.user)).lang == "zh"
