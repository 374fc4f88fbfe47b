"""Operator tools: create the account's menu, make a collection point's permanent QR code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import qrcode
from qrcode.image.pure import PyPNGImage

from bot.settings import Settings
from connectors.wechat.api import WeChatApi
from connectors.wechat.inbound import MENU_KEYS

MENU_FILE = Path(__file__).with_name("menu.json")
MAX_SCENE = 64  # WeChat's limit for scene_str


def load_menu(path: Path = MENU_FILE) -> dict[str, Any]:
    """The menu definition, checked: every CLICK key must be one the dialog knows."""
    menu: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    buttons = [b for top in menu["button"] for b in (top.get("sub_button") or [top])]
    unknown = {b.get("key") for b in buttons if b.get("type") == "click"} - MENU_KEYS
    if unknown:
        raise ValueError(f"menu keys not known to the dialog: {sorted(str(k) for k in unknown)}")
    return menu


async def create_menu(api: WeChatApi, path: Path = MENU_FILE) -> dict[str, Any]:
    menu = load_menu(path)
    await api.create_menu(menu)
    return menu


def check_scene(scene: str) -> str:
    if not scene or len(scene) > MAX_SCENE:
        raise ValueError(f"scene must be 1-{MAX_SCENE} characters")
    return scene


async def make_qrcode(api: WeChatApi, scene: str, out: Path) -> str:
    """A permanent QR code (QR_LIMIT_STR_SCENE) for `scene`, saved as PNG; returns its URL."""
    answer = await api.create_qrcode(check_scene(scene))
    url = answer.get("url")
    if not isinstance(url, str) or not url:
        raise ValueError("qrcode/create answered without a url")
    image = qrcode.make(url, image_factory=PyPNGImage, border=4, box_size=10)
    with out.open("wb") as fh:
        image.save(fh)
    return url


async def run_tool(settings: Settings, action: str, scene: str = "", out: Path | None = None) -> str:
    """`minsheng wechat menu|qrcode`: what was done, for the operator."""
    from bot.storage import connect
    from connectors.wechat.setup import build_api

    redis = connect(settings.redis_url)  # the token cache shared with the running workers
    api = build_api(settings, redis)
    try:
        if action == "menu":
            menu = await create_menu(api)
            return f"menu created: {len(menu['button'])} buttons"
        target = out or Path(f"qrcode-{check_scene(scene)}.png")
        url = await make_qrcode(api, scene, target)
        return f"QR code for scene {scene!r} saved to {target} ({url})"
    finally:
        await api.close()
        await redis.aclose()
