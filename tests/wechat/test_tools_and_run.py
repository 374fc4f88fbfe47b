"""`minsheng wechat menu|qrcode` against the local API, and `minsheng run` serving /wechat."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from bot import cli
from connectors.wechat.tools import MENU_FILE, load_menu
from tests.support.process import BotProcess
from tests.support.wechat_api import AES_KEY, APP_ID, APP_SECRET, TOKEN, WeChatResident, wechat_api


def wechat_env(api_base: str, data_dir: Path) -> dict[str, str]:
    return {
        "MINSHENG_DATA_DIR": str(data_dir),
        "MINSHENG_SECRET": "s",
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": APP_SECRET,
        "WECHAT_AES_KEY": AES_KEY,  # safe mode, since WECHAT_ENCRYPT_MODE is not set
        "WECHAT_API_BASE": api_base,
    }


def test_menu_file_uses_only_the_dialogs_menu_keys() -> None:
    menu = load_menu()
    keys = {b["key"] for top in menu["button"] for b in top.get("sub_button", [top])}
    assert keys == {"suggest", "mine", "campaigns", "howto", "human"}
    bad = json.loads(MENU_FILE.read_text())
    bad["button"][0]["key"] = "unknown"
    path = MENU_FILE.parent / "menu-test-bad.json"
    try:
        path.write_text(json.dumps(bad))
        with pytest.raises(ValueError, match="unknown"):
            load_menu(path)
    finally:
        path.unlink()


async def test_cli_creates_the_menu_and_a_collection_point_qrcode(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with wechat_api() as (server, api_base):
        for name, value in wechat_env(api_base, data_dir).items():
            monkeypatch.setenv(name, value)
        assert await asyncio.to_thread(cli.main, ["wechat", "menu"]) == 0
        (menu,) = server.menus
        assert menu["button"][0] == {"type": "click", "name": "提建议", "key": "suggest"}
        out = tmp_path / "point.png"
        args = ["wechat", "qrcode", "--scene", "point-jingansi-12", "--out", str(out)]
        code = await asyncio.to_thread(cli.main, args)
        assert code == 0 and server.qrcodes == ["point-jingansi-12"]
        assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and out.stat().st_size > 200
        assert await asyncio.to_thread(cli.main, ["wechat", "qrcode", "--scene", "x" * 65]) == 1
        server.fail("/cgi-bin/menu/create", errcode=40018)  # invalid button name
        assert await asyncio.to_thread(cli.main, ["wechat", "menu"]) == 1


async def test_minsheng_run_serves_the_wechat_webhook_from_the_environment(data_dir: Path, tmp_path: Path) -> None:
    async with wechat_api() as (server, api_base):
        bot = BotProcess(wechat_env(api_base, data_dir), tmp_path)
        await asyncio.to_thread(bot.start)
        try:
            async with aiohttp.ClientSession() as session:
                resident = WeChatResident(session, bot.base, "o-run", server, "safe")
                reply = await resident.event("subscribe", "qrscene_point-beizhan-02")
                assert reply.status == 200 and "<Encrypt>" in reply.body and "欢迎" in reply.text
                plain = WeChatResident(session, bot.base, "o-run", server, "plain")
                assert (await plain.say("你好")).status == 403  # safe mode refuses plain messages
        finally:
            await asyncio.to_thread(bot.stop)
        assert "o-run" not in bot.log.read_text()  # no openid in the logs
