"""The composition root: builds every part from the settings, and nothing else does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from redis.asyncio import Redis

from bot import logs
from bot.backend import Backend
from bot.backend.local import LocalBackend
from bot.nlu import build_understander
from bot.pipeline import Pipeline
from bot.settings import Settings
from bot.storage import ConversationStore, connect
from dialogs.engine import Context
from dialogs.understanding import Understander

log = logs.get("minsheng.bootstrap")


@dataclass(slots=True)
class Bot:
    settings: Settings
    redis: Redis
    backend: Backend
    understander: Understander
    pipeline: Pipeline
    closers: list[object] = field(default_factory=list)

    async def close(self) -> None:
        await self.backend.close()
        await self.redis.aclose()


def build(settings: Settings, understander: Understander | None = None) -> Bot:
    redis = connect(settings.redis_url, settings.redis_max_connections)
    backend = LocalBackend(settings.data_dir / "suggestions.db")
    nlu = understander or build_understander(settings.nlu_url, settings.data_dir, settings.nlu_timeout_s)
    context = Context(draft_ttl=timedelta(days=settings.draft_ttl_days))
    pipeline = Pipeline(
        store=ConversationStore(
            redis, int(settings.state_ttl_days * 86400), settings.lock_timeout_s, settings.lock_wait_s
        ),
        understander=nlu,
        backend=backend,
        secret=settings.resolved_secret(),
        context=lambda: context,
    )
    log.info("built", store="redis" if settings.redis_url else "embedded", data_dir=str(settings.data_dir))
    return Bot(settings, redis, backend, nlu, pipeline)
