"""The Rasa adapter against a local HTTP server that answers like Rasa's documented API
(`POST /model/parse`), over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.nlu import RasaUnderstander, build_understander
from bot.nlu.engine import BuiltinUnderstander


@dataclass
class RasaLike:
    """Answers like `rasa run --enable-api`: intent, intent_ranking, entities, text."""

    mode: str = "ok"  # ok | slow | error | fallback | garbage
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    async def parse(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        if self.mode == "error":
            return web.json_response(
                {"version": "3.6.21", "status": "failure", "message": "boom", "reason": "ParsingError", "code": 500},
                status=500,
            )
        if self.mode == "garbage":
            return web.Response(text="<html>proxy error</html>", content_type="text/html")
        text = body["text"]
        name, confidence = ("nlu_fallback", 0.45) if self.mode == "fallback" else ("greet", 0.9876)
        start = text.find("南西")
        entities = (
            [
                {
                    "entity": "street",
                    "start": start,
                    "end": start + 2,
                    "confidence_entity": 0.99,
                    "value": "南西",
                    "extractor": "DIETClassifier",
                }
            ]
            if start >= 0
            else []
        )
        if "DIET额外" in text:
            entities.append({"entity": "street", "start": 0, "end": 4, "value": "大宁", "extractor": "DIETClassifier"})
        return web.json_response(
            {
                "text": text,
                "intent": {"name": name, "confidence": confidence},
                "intent_ranking": [
                    {"name": name, "confidence": confidence},
                    {"name": "goodbye", "confidence": 0.01},
                ],
                "entities": entities,
            }
        )


@pytest.fixture
async def rasa() -> AsyncIterator[RasaLike]:
    server = RasaLike()
    app = web.Application()
    app.router.add_post("/model/parse", server.parse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.url = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


@pytest.fixture
async def adapter(rasa: RasaLike, nlu: BuiltinUnderstander) -> AsyncIterator[RasaUnderstander]:
    a = RasaUnderstander(rasa.url + "/", nlu, timeout=0.5, retry_after=30)
    yield a
    await a.close()


async def test_intent_from_rasa(adapter: RasaUnderstander, rasa: RasaLike) -> None:
    u = await adapter.parse("你好 我住南西 公厕太旧")
    assert rasa.requests == [{"text": "你好 我住南西 公厕太旧"}]
    assert (u.intent, u.confidence) == ("greet", 0.9876)
    assert u.intent_ranking[0] == ("greet", 0.9876)
    # The street comes from the rule extraction (canonical value), not twice.
    assert u.values("street") == ["南京西路街道"]
    assert len([e for e in u.entities if e.entity == "street"]) == 1
    assert u.category is not None  # from the built-in engine: Rasa's model has no categories
    assert adapter.failures == 0


async def test_rasa_only_entities_are_kept_and_mapped(adapter: RasaUnderstander) -> None:
    u = await adapter.parse("DIET额外的话")
    (street,) = [e for e in u.entities if e.entity == "street"]
    assert (street.value, street.extractor) == ("大宁路街道", "DIETClassifier")  # synonym applied


async def test_nlu_fallback_is_unsure(adapter: RasaUnderstander, rasa: RasaLike) -> None:
    rasa.mode = "fallback"
    u = await adapter.parse("嗯嗯啊啊")
    assert u.intent is None
    assert all(name != "nlu_fallback" for name, _ in u.intent_ranking)


async def test_timeout_falls_back(adapter: RasaUnderstander, rasa: RasaLike, nlu: BuiltinUnderstander) -> None:
    rasa.mode, rasa.delay = "slow", 3.0
    loop = asyncio.get_running_loop()
    started = loop.time()
    u = await adapter.parse("转人工")
    assert loop.time() - started < 2.0
    assert u == await nlu.parse("转人工")
    assert adapter.failures == 1
    # Within retry_after the dead server is not asked again (no second timeout).
    started = loop.time()
    await adapter.parse("返回")
    assert loop.time() - started < 0.2 and len(rasa.requests) == 1


@pytest.mark.parametrize("mode", ["error", "garbage"])
async def test_bad_answers_fall_back(
    adapter: RasaUnderstander, rasa: RasaLike, nlu: BuiltinUnderstander, mode: str
) -> None:
    rasa.mode = mode
    u = await adapter.parse("着火了")
    assert u == await nlu.parse("着火了")
    assert adapter.failures == 1


async def test_server_down_falls_back(nlu: BuiltinUnderstander) -> None:
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    a = RasaUnderstander(f"http://127.0.0.1:{port}", nlu, timeout=0.5)
    try:
        u = await a.parse("谢谢")
        assert u.intent == "thanks" and a.failures == 1
    finally:
        await a.close()


async def test_recovers_after_retry_window(adapter: RasaUnderstander, rasa: RasaLike) -> None:
    adapter.retry_after = 0.0
    rasa.mode = "error"
    await adapter.parse("你好")
    rasa.mode = "ok"
    u = await adapter.parse("谢谢")
    assert u.intent == "greet"  # Rasa's answer again
    assert len(rasa.requests) == 2


async def test_build_understander_with_url(rasa: RasaLike, tmp_path) -> None:  # type: ignore[no-untyped-def]
    u = build_understander(rasa.url, tmp_path, timeout=1.0)
    assert isinstance(u, RasaUnderstander)
    try:
        assert (await u.parse("hello")).intent == "greet"
    finally:
        await u.close()
