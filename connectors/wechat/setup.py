"""Building the WeChat connector from the settings (called by the composition root)."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.pipeline import Pipeline
from bot.settings import Settings, SettingsError
from bot.speech import HttpSpeechToText
from connectors.wechat.api import WeChatApi
from connectors.wechat.channel import WeChatChannel
from connectors.wechat.verify import Mode, Verifier, aes_key_ok
from connectors.wechat.webhook import WeChatWebhook


def _fields(raw: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def build_api(settings: Settings, redis: Redis) -> WeChatApi:
    if not settings.wechat_app_id or not settings.wechat_app_secret:
        raise SettingsError("invalid settings: WECHAT_APP_ID and WECHAT_APP_SECRET are required for WeChat")
    return WeChatApi(redis, settings.wechat_app_id, settings.wechat_app_secret, settings.wechat_api_base)


def build_wechat(settings: Settings, redis: Redis, pipeline: Pipeline) -> WeChatWebhook:
    """The webhook and its output channel; settings errors name the variables."""
    mode = Mode(settings.wechat_mode())
    if mode != Mode.PLAIN and not aes_key_ok(settings.wechat_aes_key):
        raise SettingsError(f"invalid settings: WECHAT_AES_KEY must be the 43-character EncodingAESKey ({mode} mode)")
    api = build_api(settings, redis)
    secret = settings.resolved_secret()
    channel = WeChatChannel(
        api,
        redis,
        secret,
        template_id=settings.wechat_template_id,
        template_fields=_fields(settings.wechat_template_fields),
        subscribe_id=settings.wechat_subscribe_template_id,
        subscribe_fields=_fields(settings.wechat_subscribe_fields),
    )
    verifier = Verifier(settings.wechat_token, mode, settings.wechat_app_id, settings.wechat_aes_key)
    stt = HttpSpeechToText(settings.stt_url) if settings.stt_url else None
    return WeChatWebhook(verifier, pipeline, channel, api, redis, stt, settings.wechat_reply_budget_s)
