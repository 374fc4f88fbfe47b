"""Configuration from environment variables (and a .env file), validated at start-up."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URL"))
    data_dir: Path = Field(Path("data"), validation_alias=_env("MINSHENG_DATA_DIR"))
    host: str = Field("127.0.0.1", validation_alias=_env("MINSHENG_HOST"))
    port: int = Field(8080, ge=0, le=65535, validation_alias=_env("MINSHENG_PORT"))
    secret: str = Field("", validation_alias=_env("MINSHENG_SECRET"))
    draft_ttl_days: float = Field(7, gt=0, validation_alias=_env("MINSHENG_DRAFT_TTL_DAYS"))
    state_ttl_days: float = Field(180, gt=0, validation_alias=_env("MINSHENG_STATE_TTL_DAYS"))
    lock_timeout_s: float = Field(30, gt=0, validation_alias=_env("MINSHENG_LOCK_TIMEOUT"))
    lock_wait_s: float = Field(10, gt=0, validation_alias=_env("MINSHENG_LOCK_WAIT"))
    nlu_url: str | None = Field(None, validation_alias=_env("NLU_URL"))
    nlu_timeout_s: float = Field(1.5, gt=0, validation_alias=_env("NLU_TIMEOUT"))
    log_level: str = Field("INFO", validation_alias=_env("LOG_LEVEL"))
    log_json: bool = Field(False, validation_alias=_env("LOG_JSON"))

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
