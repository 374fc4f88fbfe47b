"""Configuration from environment variables (and a .env file), validated at start-up."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URL"))
    redis_max_connections: int = Field(64, ge=1, validation_alias=_env("REDIS_MAX_CONNECTIONS"))
    data_dir: Path = Field(Path("data"), validation_alias=_env("MINSHENG_DATA_DIR"))
    host: str = Field("127.0.0.1", validation_alias=_env("MINSHENG_HOST"))
    port: int = Field(8080, ge=0, le=65535, validation_alias=_env("MINSHENG_PORT"))
    secret: str = Field("", validation_alias=_env("MINSHENG_SECRET"))
    draft_ttl_days: float = Field(7, gt=0, validation_alias=_env("MINSHENG_DRAFT_TTL_DAYS"))
    away_minutes: float = Field(30, gt=0, validation_alias=_env("MINSHENG_AWAY_MINUTES"))
    state_ttl_days: float = Field(180, gt=0, validation_alias=_env("MINSHENG_STATE_TTL_DAYS"))
    lock_timeout_s: float = Field(30, gt=0, validation_alias=_env("MINSHENG_LOCK_TIMEOUT"))
    lock_wait_s: float = Field(10, gt=0, validation_alias=_env("MINSHENG_LOCK_WAIT"))
    nlu_url: str | None = Field(None, validation_alias=_env("NLU_URL"))
    # Where the trained NLU model is cached (default: the data dir); shared by tests and workers.
    nlu_cache_dir: Path | None = Field(None, validation_alias=_env("NLU_CACHE_DIR"))
    nlu_timeout_s: float = Field(1.5, gt=0, validation_alias=_env("NLU_TIMEOUT"))
    # The backend: unset → the reference backend runs inside this process on MINSHENG_DATA_DIR.
    backend_url: str | None = Field(None, validation_alias=_env("BACKEND_URL"))
    backend_secret: str = Field("", validation_alias=_env("BACKEND_SECRET"))
    backend_database_url: str = Field("", validation_alias=_env("BACKEND_DATABASE_URL"))
    delivery_lease_s: float = Field(120, gt=0, validation_alias=_env("DELIVERY_LEASE_SECONDS"))
    delivery_backoff_s: float = Field(0.5, gt=0, validation_alias=_env("DELIVERY_BACKOFF_SECONDS"))
    delivery_backoff_cap_s: float = Field(60, gt=0, validation_alias=_env("DELIVERY_BACKOFF_CAP_SECONDS"))
    worker_name: str = Field("", validation_alias=_env("MINSHENG_WORKER"))
    backend_admin_token: str = Field("", validation_alias=_env("BACKEND_ADMIN_TOKEN"))
    log_level: str = Field("INFO", validation_alias=_env("LOG_LEVEL"))
    log_json: bool = Field(False, validation_alias=_env("LOG_JSON"))
    stt_url: str | None = Field(None, validation_alias=_env("STT_URL"))
    telegram_bot_token: str | None = Field(None, validation_alias=_env("TELEGRAM_BOT_TOKEN"))
    telegram_webhook_secret: str = Field("", validation_alias=_env("TELEGRAM_WEBHOOK_SECRET"))
    telegram_webhook_url: str | None = Field(None, validation_alias=_env("TELEGRAM_WEBHOOK_URL"))
    telegram_api_base: str = Field("https://api.telegram.org", validation_alias=_env("TELEGRAM_API_BASE"))
    wechat_token: str = Field("", validation_alias=_env("WECHAT_TOKEN"))
    wechat_app_id: str = Field("", validation_alias=_env("WECHAT_APP_ID"))
    wechat_app_secret: str = Field("", validation_alias=_env("WECHAT_APP_SECRET"))
    wechat_aes_key: str = Field("", validation_alias=_env("WECHAT_AES_KEY"))
    # plain | compatible | safe; empty: safe when WECHAT_AES_KEY is set, else plain.
    wechat_encrypt_mode: str = Field("", validation_alias=_env("WECHAT_ENCRYPT_MODE"))
    wechat_api_base: str = Field("https://api.weixin.qq.com", validation_alias=_env("WECHAT_API_BASE"))
    wechat_reply_budget_s: float = Field(4.0, gt=0, le=4.8, validation_alias=_env("WECHAT_REPLY_BUDGET"))
    wechat_template_id: str = Field("", validation_alias=_env("WECHAT_TEMPLATE_ID"))
    wechat_template_fields: str = Field(
        "first,keyword1,keyword2,remark", validation_alias=_env("WECHAT_TEMPLATE_FIELDS")
    )
    wechat_subscribe_template_id: str = Field("", validation_alias=_env("WECHAT_SUBSCRIBE_TEMPLATE_ID"))
    wechat_subscribe_fields: str = Field("thing1,thing2", validation_alias=_env("WECHAT_SUBSCRIBE_FIELDS"))
    # Staff escalation and the console (bot/staff).
    staff_office_hours: str = Field("mon-fri 09:00-17:00", validation_alias=_env("STAFF_OFFICE_HOURS"))
    staff_timezone: str = Field("Asia/Shanghai", validation_alias=_env("STAFF_TIMEZONE"))
    staff_sensitive_words: str = Field("", validation_alias=_env("STAFF_SENSITIVE_WORDS"))  # comma-separated
    staff_public_url: str = Field("", validation_alias=_env("STAFF_PUBLIC_URL"))  # links, allowed Origin
    staff_session_hours: float = Field(12, gt=0, validation_alias=_env("STAFF_SESSION_HOURS"))
    staff_cookie_secure: bool = Field(False, validation_alias=_env("STAFF_COOKIE_SECURE"))
    staff_telegram_chat_id: str = Field("", validation_alias=_env("STAFF_TELEGRAM_CHAT_ID"))
    staff_telegram_bot_token: str = Field("", validation_alias=_env("STAFF_TELEGRAM_BOT_TOKEN"))
    staff_wecom_webhook: str = Field("", validation_alias=_env("STAFF_WECOM_WEBHOOK"))

    @field_validator("staff_office_hours")
    @classmethod
    def _office_hours(cls, value: str) -> str:
        from bot.staff.hours import OfficeHours

        OfficeHours.parse(value)  # raises ValueError naming the wrong part
        return value

    @field_validator("wechat_encrypt_mode")
    @classmethod
    def _wechat_mode(cls, value: str) -> str:
        if value.lower() not in ("", "plain", "compatible", "safe"):
            raise ValueError("must be plain, compatible or safe")
        return value.lower()

    def wechat_mode(self) -> str:
        """The message encryption mode: as configured, else safe when an AES key is set."""
        return self.wechat_encrypt_mode or ("safe" if self.wechat_aes_key else "plain")

    @field_validator("stt_url", "telegram_bot_token", "telegram_webhook_url")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_token(cls, value: str) -> str:
        # Telegram's own rule for secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return upper

    @field_validator("backend_url")
    @classmethod
    def _backend_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    def signing_secret(self) -> str:
        """The key that signs bot↔backend traffic; with a remote backend it must be configured."""
        if self.backend_url and not self.backend_secret:
            raise SettingsError("BACKEND_SECRET: required when BACKEND_URL is set")
        return self.backend_secret or self.resolved_secret()

    def resolved_secret(self) -> str:
        """The key for hashing resident ids: configured, or created once in the data dir."""
        if self.secret:
            return self.secret
        path = self.data_dir / ".secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()


class SettingsError(Exception):
    """Settings that cannot start the bot, with the variable names in the message."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            alias = Settings.model_fields[field].validation_alias if field in Settings.model_fields else None
            name = alias.choices[0] if isinstance(alias, AliasChoices) else field
            lines.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(lines)) from None
