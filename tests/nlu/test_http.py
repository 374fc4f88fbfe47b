"""POST /model/parse over real HTTP, in Rasa's response format."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.nlu.engine import BuiltinUnderstander
from bot.nlu.http import parse_handler


@pytest.fixture
async def client(nlu: BuiltinUnderstander) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    app.router.add_post("/model/parse", parse_handler(nlu))
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        yield c


async def test_parse_response_is_rasa_shaped(client: TestClient[web.Request, web.Application]) -> None:
    resp = await client.post("/model/parse", json={"text": "常德路那边路口没红绿灯 我想提个建议"})
    assert resp.status == 200
    body = await resp.json()
    assert body["text"] == "常德路那边路口没红绿灯 我想提个建议"
    assert body["intent"]["name"] == "make_suggestion"
    assert 0 < body["intent"]["confidence"] <= 1
    assert body["intent_ranking"][0] == body["intent"]
    assert {e["entity"] for e in body["entities"]} == {"road", "street"}
    for e in body["entities"]:
        assert set(e) == {"entity", "value", "start", "end", "extractor"}
        assert body["text"][e["start"] : e["end"]] == "常德路"
    assert body["category"] == {
        "name": "transport",
        "confidence": body["category"]["confidence"],
        "standard": "交通运输",
    }


async def test_unsure_is_nlu_fallback(client: TestClient[web.Request, web.Application]) -> None:
    body = await (await client.post("/model/parse", json={"text": "3"})).json()
    assert body["intent"]["name"] == "nlu_fallback"
    assert body["category"]["name"] is None and body["category"]["standard"] is None


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'{"text": 5}', b"{}"])
async def test_bad_requests(client: TestClient[web.Request, web.Application], payload: bytes) -> None:
    resp = await client.post("/model/parse", data=payload, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert (await resp.json())["status"] == "failure"


async def test_too_long(client: TestClient[web.Request, web.Application]) -> None:
    resp = await client.post("/model/parse", json={"text": "长" * 20000})
    assert resp.status == 413
