"""The composition root: builds every part from the settings, and nothing else does."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis

from backend.db import engine_for
from backend.events import EventSender
from backend.migrate import upgrade
from backend.service import Office
from bot import logs
from bot.delivery.backend_client import BackendClient, HttpBackend, InProcessBackend
from bot.delivery.events import EventIntake
from bot.delivery.outbox import OUTBOX, OutboxHandler
from bot.delivery.pushes import PushHandler, push_stream
from bot.delivery.streams import StreamWorker
from bot.nlu import build_understander
from bot.outreach import HttpReader, OfficeReader, Outreach, RecordReader
from bot.pipeline import ESCALATION_STREAM, Pipeline, SuggestionIds
from bot.settings import Settings
from bot.staff import Desk, build_desk, push_via_queue
from bot.storage import ConversationStore, connect
from connectors.base import OutputChannel
from connectors.rest import Inbox
from dialogs.engine import Context
from dialogs.understanding import Understander

if TYPE_CHECKING:
    from connectors.telegram import TelegramConnector
    from connectors.wechat.webhook import WeChatWebhook

log = logs.get("minsheng.bootstrap")


@dataclass(slots=True)
class Bot:
    settings: Settings
    redis: Redis
    understander: Understander
    pipeline: Pipeline
    backend: BackendClient
    intake: EventIntake
    office: Office | None = None  # the reference backend, when it runs in this process
    outputs: dict[str, OutputChannel] = field(default_factory=dict)  # pushes, by channel
    workers: list[StreamWorker] = field(default_factory=list)
    events: EventSender | None = None
    wechat: WeChatWebhook | None = None  # set when WECHAT_TOKEN is configured
    telegram: TelegramConnector | None = None  # set when TELEGRAM_BOT_TOKEN is configured
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    staff: Desk | None = None  # the staff console's desk (bot/staff), mounted at /staff
    outreach: Outreach | None = None  # campaigns, collection points, record counts (bot/outreach.py)

    def inbox(self, channel: str) -> Inbox:
        output = self.outputs[channel]
        assert isinstance(output, Inbox)
        return output

    async def start(self) -> None:
        """Prepare storage and start the background deliveries (outbox, pushes, backend events)."""
        if self.office is not None:
            await asyncio.to_thread(upgrade, _office_url(self.settings))
            year = datetime.now(UTC).year
            await self.pipeline.ids.at_least(year, await self.office.last_sequence(year))
        consumer = self.settings.worker_name or f"{socket.gethostname()}-{os.getpid()}"
        lease, base, cap = (self.settings.delivery_lease_s, self.settings.delivery_backoff_s,
                            self.settings.delivery_backoff_cap_s)
        self.workers = [StreamWorker(self.redis, OUTBOX, OutboxHandler(self.backend), consumer,
                                     lease_s=lease, backoff_base_s=base, backoff_cap_s=cap)]
        for channel, output in self.outputs.items():
            self.workers.append(StreamWorker(self.redis, push_stream(channel), PushHandler(output), consumer,
                                             lease_s=lease, backoff_base_s=base, backoff_cap_s=cap))
        self.tasks = [asyncio.create_task(w.run()) for w in self.workers]
        if self.events is not None:
            self.tasks.append(asyncio.create_task(self.events.run()))

    async def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until the outbox is empty (the embedded store does not outlive the process)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while await self.redis.xlen(OUTBOX):
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def close(self) -> None:
        if self.tasks and not self.settings.redis_url and not await self.flush():
            log.error("outbox not empty at shutdown", entries=await self.redis.xlen(OUTBOX))
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.backend.close()
        if self.outreach is not None and isinstance(self.outreach.records, HttpReader):
            await self.outreach.records.close()
        closer = getattr(self.understander, "close", None)  # the Rasa adapter holds an HTTP session
        if closer is not None:
            await closer()
        if self.office is not None:
            await self.office.close()
        await self.redis.aclose()


def _office_url(settings: Settings) -> str:
    return settings.backend_database_url or f"sqlite+aiosqlite:///{settings.data_dir / 'backend.db'}"


def build(settings: Settings, understander: Understander | None = None) -> Bot:
    redis = connect(settings.redis_url, settings.redis_max_connections)
    cache = settings.nlu_cache_dir or settings.data_dir
    nlu = understander or build_understander(settings.nlu_url, cache, settings.nlu_timeout_s)
    context = Context(
        draft_ttl=timedelta(days=settings.draft_ttl_days), away_after=timedelta(minutes=settings.away_minutes)
    )
    pipeline = Pipeline(
        store=ConversationStore(
            redis, int(settings.state_ttl_days * 86400), settings.lock_timeout_s, settings.lock_wait_s
        ),
        understander=nlu,
        ids=SuggestionIds(redis),
        secret=settings.resolved_secret(),
        context=lambda: context,
    )
    intake = EventIntake(pipeline, redis, settings.signing_secret())
    office: Office | None = None
    events: EventSender | None = None
    client: BackendClient
    if settings.backend_url:
        client = HttpBackend(settings.backend_url, settings.signing_secret())
    else:
        office = Office(engine_for(_office_url(settings)))
        client = InProcessBackend(office)
        events = EventSender(office, _accepted(intake))
    outputs: dict[str, OutputChannel] = {"rest": Inbox(redis, "rest"), "terminal": Inbox(redis, "terminal")}
    log.info("built", store="redis" if settings.redis_url else "embedded",
             backend=settings.backend_url or "in-process", data_dir=str(settings.data_dir))
    bot = Bot(settings, redis, nlu, pipeline, client, intake, office, outputs, events=events)
    if settings.wechat_token:
        from connectors.wechat.setup import build_wechat

        bot.wechat = build_wechat(settings, redis, pipeline)
        bot.outputs["wechat"] = bot.wechat.channel  # status pushes: window, template, hold
    if settings.telegram_bot_token:
        from connectors.telegram import build_telegram

        bot.telegram = build_telegram(settings, pipeline, redis)
        bot.outputs["telegram"] = bot.telegram.channel  # status pushes: rate-limited, 429/403 aware
    # Staff escalation: the console's desk, and the pipeline's gate (held conversations, transcripts).
    bot.staff, pipeline.staff = build_desk(settings, pipeline, push_via_queue(redis), ESCALATION_STREAM)
    # Campaigns and collection points (issue 9): the turn's context, and the console's records.
    records: RecordReader | None = OfficeReader(office) if office is not None else None
    if records is None and settings.backend_url and settings.backend_admin_token:
        records = HttpReader(settings.backend_url, settings.backend_admin_token)
    bot.outreach = build_outreach(settings, redis, records, context)
    pipeline.contexts = bot.outreach.context
    bot.staff.outreach = bot.outreach
    return bot


def build_outreach(settings: Settings, redis: Redis | None, records: RecordReader | None,
                   context: Context | None = None) -> Outreach:
    """The registries: a Redis hash with REDIS_URL, else JSON files in the data dir (CLI-shared)."""
    from bot.campaigns import Campaigns
    from bot.points import Points
    from bot.registry import registry_for

    campaigns = Campaigns(registry_for(settings.redis_url, redis, settings.data_dir, "campaigns"))
    points = Points(registry_for(settings.redis_url, redis, settings.data_dir, "points"))
    return Outreach(campaigns, points, records, context or Context())


def _accepted(intake: EventIntake) -> Callable[[dict[str, Any]], Awaitable[bool]]:
    """The in-process backend hands its events straight to the intake."""

    async def deliver(event: dict[str, Any]) -> bool:
        status, _ = await intake.accept(event)
        return status == 200

    return deliver
