"""Ask a Rasa server (`POST /model/parse`) and fall back to the built-in engine.

The intent comes from Rasa. Entities are the built-in rule extraction (which knows that a road
lies in several streets) plus any Rasa entity that does not overlap them, its value mapped
through our synonyms. The category comes from the response's `category` field when the server
is a minsheng instance, else from the built-in engine (a Rasa model trains on intents only).
After a failure the server is skipped for `retry_after` seconds, so that a dead server costs one
timeout, not one per message.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import aiohttp

from dialogs.categories import BY_KEY
from dialogs.understanding import Entity, Understanding

from .engine import BuiltinUnderstander

log = logging.getLogger(__name__)

FALLBACK_INTENTS = frozenset({"nlu_fallback", ""})


class RasaError(Exception):
    """The Rasa server did not give a usable answer."""


class RasaUnderstander:
    def __init__(
        self,
        url: str,
        fallback: BuiltinUnderstander,
        timeout: float = 2.0,
        retry_after: float = 30.0,
        intent_threshold: float | None = None,
    ) -> None:
        self.endpoint = url.rstrip("/") + "/model/parse"
        self.fallback = fallback
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retry_after = retry_after
        self.intent_threshold = fallback.intent_threshold if intent_threshold is None else intent_threshold
        self._session: aiohttp.ClientSession | None = None
        self._down_until = 0.0
        self.failures = 0  # observable for health checks and tests

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def parse(self, text: str, lang: str = "zh") -> Understanding:
        local = self.fallback.analyse(text).understanding
        if time.monotonic() < self._down_until:
            return local
        try:
            body = await self._ask(text)
            return self._merge(body, local)
        except (RasaError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            self.failures += 1
            self._down_until = time.monotonic() + self.retry_after
            # The text may hold personal data: log only the kind of failure.
            log.warning("Rasa NLU unavailable (%s); using the built-in engine", type(exc).__name__)
            return local

    async def _ask(self, text: str) -> dict[str, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        async with self._session.post(self.endpoint, json={"text": text}) as resp:
            if resp.status != 200:
                raise RasaError(f"HTTP {resp.status}")
            body = await resp.json(content_type=None)
        if not isinstance(body, dict):
            raise RasaError("response is not a JSON object")
        return body

    def _merge(self, body: dict[str, Any], local: Understanding) -> Understanding:
        intent, confidence = _intent(body.get("intent"))
        ranking = tuple(
            (str(r["name"]), float(r.get("confidence") or 0.0))
            for r in body.get("intent_ranking") or ()
            if isinstance(r, dict) and isinstance(r.get("name"), str) and r["name"] not in FALLBACK_INTENTS
        )
        if intent is not None and confidence < self.intent_threshold:
            intent = None
        entities = list(local.entities)
        for raw in body.get("entities") or ():
            entity = self._entity(raw)
            if entity and not any(e.start < entity.end and entity.start < e.end for e in local.entities):
                entities.append(entity)
        entities.sort(key=lambda e: (e.start, e.end))
        category, category_conf = local.category, local.category_confidence
        remote = body.get("category")
        if isinstance(remote, dict) and "name" in remote:
            name = remote.get("name")
            category = name if isinstance(name, str) and name in BY_KEY else None
            category_conf = float(remote.get("confidence") or 0.0)
        return Understanding(
            intent=intent,
            confidence=confidence,
            entities=tuple(entities),
            category=category,
            category_confidence=category_conf,
            intent_ranking=ranking,
        )

    def _entity(self, raw: Any) -> Entity | None:
        if not isinstance(raw, dict):
            return None
        try:
            name, start, end = str(raw["entity"]), int(raw["start"]), int(raw["end"])
        except (KeyError, TypeError, ValueError):
            return None
        value = raw.get("value")
        value = str(value) if value is not None else ""
        return Entity(
            entity=name,
            value=self.fallback.extractor.map_value(value),
            start=start,
            end=end,
            text=value,
            extractor=str(raw.get("extractor") or "rasa"),
        )


def _intent(raw: Any) -> tuple[str | None, float]:
    if not isinstance(raw, dict):
        return None, 0.0
    name = raw.get("name")
    confidence = float(raw.get("confidence") or 0.0)
    if not isinstance(name, str) or name in FALLBACK_INTENTS:
        return None, confidence
    return name, confidence
