"""`POST /model/parse` in Rasa's request/response format, plus a `category` field."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from dialogs.categories import standard_of
from dialogs.understanding import Understander, Understanding

FALLBACK_INTENT = "nlu_fallback"  # what Rasa's FallbackClassifier answers when unsure
MAX_TEXT = 10_000


def to_rasa(text: str, u: Understanding) -> dict[str, Any]:
    """Rasa's documented parse result. When unsure the intent is `nlu_fallback`, as Rasa's
    FallbackClassifier reports it; the real guesses stay in `intent_ranking`."""
    intent = (
        {"name": u.intent, "confidence": round(u.confidence, 6)}
        if u.intent
        else {"name": FALLBACK_INTENT, "confidence": round(u.confidence, 6)}
    )
    return {
        "text": text,
        "intent": intent,
        "intent_ranking": [{"name": n, "confidence": round(c, 6)} for n, c in u.intent_ranking],
        "entities": [
            {"entity": e.entity, "value": e.value, "start": e.start, "end": e.end, "extractor": e.extractor}
            for e in u.entities
        ],
        "category": {
            "name": u.category,
            "confidence": round(u.category_confidence, 6),
            "standard": standard_of(u.category),
        },
    }


def parse_handler(understander: Understander) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "body must be JSON")
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return _error(400, 'expected {"text": "..."}')
        text: str = body["text"]
        if len(text) > MAX_TEXT:
            return _error(413, f"text longer than {MAX_TEXT} characters")
        lang = body.get("lang") if isinstance(body.get("lang"), str) else "zh"
        understanding = await understander.parse(text, lang=lang or "zh")
        return web.json_response(to_rasa(text, understanding), dumps=_dumps)

    return handle


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _error(status: int, message: str) -> web.Response:
    # Rasa answers errors with {"version", "status", "message", "reason", "code"}; keep the gist.
    return web.json_response(
        {"status": "failure", "message": message, "reason": "BadRequest", "code": status}, status=status
    )
