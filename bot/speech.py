"""Speech to text for voice messages: an optional HTTP service configured by URL.

The service receives the audio bytes (`POST <STT_URL>?lang=zh` with the audio's Content-Type)
and answers {"text": "..."}. Without a URL, voice is kept as an attachment and the dialog
answers kindly, offering typing, digits or a call-back.
"""

from __future__ import annotations

from typing import Protocol

import aiohttp

from bot import logs

log = logs.get("minsheng.speech")


class SpeechToText(Protocol):
    async def transcribe(self, audio: bytes, mime: str, lang: str = "zh") -> str | None: ...


class NoSpeechToText:
    async def transcribe(self, audio: bytes, mime: str, lang: str = "zh") -> str | None:
        return None


class HttpSpeechToText:
    def __init__(self, url: str, timeout_s: float = 8.0) -> None:
        self.url = url
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def transcribe(self, audio: bytes, mime: str, lang: str = "zh") -> str | None:
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as session,
                session.post(self.url, params={"lang": lang}, data=audio, headers={"Content-Type": mime}) as resp,
            ):
                if resp.status != 200:
                    log.warning("stt failed", status=resp.status)
                    return None
                body = await resp.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("stt unavailable", error=type(exc).__name__)
            return None
        text = body.get("text") if isinstance(body, dict) else None
        return text.strip() or None if isinstance(text, str) else None
