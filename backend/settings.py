"""Configuration of the reference backend (its own process, or in-process with the bot)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BackendSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path("data"), validation_alias=AliasChoices("MINSHENG_DATA_DIR"))
    database_url: str = Field("", validation_alias=AliasChoices("BACKEND_DATABASE_URL"))
    secret: str = Field("", validation_alias=AliasChoices("BACKEND_SECRET"))
    admin_token: str = Field("", validation_alias=AliasChoices("BACKEND_ADMIN_TOKEN"))
    bot_events_url: str = Field(
        "http://127.0.0.1:8080/backend/events", validation_alias=AliasChoices("BOT_EVENTS_URL")
    )
    host: str = Field("127.0.0.1", validation_alias=AliasChoices("BACKEND_HOST"))
    port: int = Field(8090, validation_alias=AliasChoices("BACKEND_PORT"))

    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'backend.db'}"
