"""Nothing submitted is lost or delivered twice, whatever fails (real processes on loopback)."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from bot import signing
from tests.delivery.loop import SECRET, Loop, eventually, pushes, submit
from tests.support.app import RestClient
from tests.support.fault_proxy import FaultProxy


async def test_backend_down_for_the_first_attempts_then_delivered_once(tmp_path: Path) -> None:
    proxy = FaultProxy(f"http://127.0.0.1:{Loop(tmp_path).backend_port}")
    proxy.down = 4
    async with proxy.running() as via, aiohttp.ClientSession() as session:
        loop = Loop(tmp_path, backend_via=via)
        proxy.target = loop.backend_url
        try:
            loop.redis.start()
            loop.backend.start()
            loop.bot.start()
            suggestion_id = await submit(RestClient(session, loop.bot.base, "erin"))
            listed = await eventually(lambda: loop.records(session))
            assert [r["id"] for r in listed] == [suggestion_id]
            assert [s for _, s in proxy.seen] == [503, 503, 503, 503, 201]
        finally:
            loop.stop()


async def test_backend_failing_after_storing_still_gives_one_record(tmp_path: Path) -> None:
    proxy = FaultProxy("http://127.0.0.1:1")
    proxy.fail_after_store = 2
    async with proxy.running() as via, aiohttp.ClientSession() as session:
        loop = Loop(tmp_path, backend_via=via)
        proxy.target = loop.backend_url
        try:
            loop.redis.start()
            loop.backend.start()
            loop.bot.start()
            suggestion_id = await submit(RestClient(session, loop.bot.base, "fay"))
            async def three_answers() -> bool:
                return len(proxy.seen) >= 3

            await eventually(three_answers)
            assert [s for _, s in proxy.seen] == [500, 500, 200]  # stored once, then repeats
            assert [r["id"] for r in await loop.records(session)] == [suggestion_id]
        finally:
            loop.stop()


async def test_bot_killed_before_delivery_delivers_after_restart(tmp_path: Path) -> None:
    with Loop(tmp_path) as loop:
        loop.redis.start()
        loop.bot.start()  # the backend is not running yet
        async with aiohttp.ClientSession() as session:
            suggestion_id = await submit(RestClient(session, loop.bot.base, "gus"))
            loop.bot.kill()  # the record is durable; nothing was delivered
            loop.backend.start()
            loop.new_bot().start()
            listed = await eventually(lambda: loop.records(session))
            assert [r["id"] for r in listed] == [suggestion_id]


async def test_redis_restart_between_submit_and_delivery(tmp_path: Path) -> None:
    with Loop(tmp_path) as loop:
        loop.redis.start()
        loop.bot.start()
        async with aiohttp.ClientSession() as session:
            suggestion_id = await submit(RestClient(session, loop.bot.base, "hal"))
            loop.redis.restart()  # AOF: the outbox entry survives
            loop.backend.start()
            listed = await eventually(lambda: loop.records(session), timeout=30)
            assert [r["id"] for r in listed] == [suggestion_id]


async def test_forged_and_replayed_events_are_refused_without_a_push(tmp_path: Path) -> None:
    with Loop(tmp_path) as loop:
        loop.redis.start()
        loop.backend.start()
        loop.bot.start()
        async with aiohttp.ClientSession() as session:
            suggestion_id = await submit(RestClient(session, loop.bot.base, "ivy"))
            await eventually(lambda: loop.records(session))
            url = f"{loop.bot.base}/backend/events"
            event = {"event_id": "e-1", "type": "status_changed", "suggestion_id": suggestion_id,
                     "data": {"status": "accepted", "note": "", "reply": ""}}
            body = json.dumps(event).encode()
            forged = {"Content-Type": "application/json", **signing.sign("wrong-secret", body)}
            async with session.post(url, data=body, headers=forged) as resp:
                assert resp.status == 401
            stale = {"Content-Type": "application/json", **signing.sign(SECRET, body, timestamp=1_000_000_000)}
            async with session.post(url, data=body, headers=stale) as resp:
                assert resp.status == 401
            genuine = {"Content-Type": "application/json", **signing.sign(SECRET, body)}
            async with session.post(url, data=body, headers=genuine) as resp:
                assert resp.status == 200
            first = await eventually(lambda: pushes(session, loop.bot.base, "ivy"))
            assert len(first) == 1 and "已受理" in first[0]["text"]
            async with session.post(url, data=body, headers=genuine) as resp:  # the same request again
                assert resp.status == 401
            resent = {"Content-Type": "application/json", **signing.sign(SECRET, body, timestamp=None)}
            resent[signing.TIMESTAMP] = str(int(resent[signing.TIMESTAMP]) + 1)
            resent.update(signing.sign(SECRET, body, int(resent[signing.TIMESTAMP])))
            async with session.post(url, data=body, headers=resent) as resp:  # a genuine re-send
                assert resp.status == 200
            assert await pushes(session, loop.bot.base, "ivy") == []  # still one push: same event id
