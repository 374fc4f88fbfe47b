"""Tell the staff channel about a new urgent escalation: a Telegram group (Bot API sendMessage)
and/or a WeCom group robot. The message carries the case id, reason, street, channel and a link
to the console; never a phone number, a name or a platform id."""

from __future__ import annotations

import asyncio

import aiohttp

from bot import logs
from bot.staff.queue import Case

log = logs.get("minsheng.staff.notify")

REASONS = {"asked": "要求人工", "callback": "请求回电", "emergency": "紧急情况", "not_understood": "多次未能理解",
           "sensitive": "敏感话题"}
CHANNELS = {"wechat": "微信", "telegram": "Telegram", "rest": "网页", "terminal": "终端"}


def summary(case: Case, console_url: str) -> str:
    reasons = "、".join(REASONS.get(r, r) for r in case.reasons)
    where = case.street or "街道未知"
    return (f"【紧急】民声转人工 {case.id}:{reasons} · {where} · {CHANNELS.get(case.channel, case.channel)}\n"
            f"{console_url.rstrip('/')}/staff/c/{case.id}")


class Notifier:
    def __init__(self, console_url: str, telegram_api_base: str = "", telegram_token: str = "",
                 telegram_chat_id: str = "", wecom_webhook: str = "", attempts: int = 3) -> None:
        self.console_url = console_url
        self.telegram_url = (f"{telegram_api_base.rstrip('/')}/bot{telegram_token}/sendMessage"
                             if telegram_token and telegram_chat_id else "")
        self.chat_id = telegram_chat_id
        self.wecom_webhook = wecom_webhook
        self.attempts = attempts
        self._session: aiohttp.ClientSession | None = None

    @property
    def configured(self) -> bool:
        return bool(self.telegram_url or self.wecom_webhook)

    async def urgent(self, case: Case) -> None:
        text = summary(case, self.console_url)
        if self.telegram_url:
            await self._post("telegram", self.telegram_url, {"chat_id": self.chat_id, "text": text}, case.id)
        if self.wecom_webhook:
            await self._post("wecom", self.wecom_webhook, {"msgtype": "text", "text": {"content": text}}, case.id)

    async def _post(self, target: str, url: str, body: dict[str, object], case_id: str) -> None:
        """A few tries; a notification that cannot be sent is logged (the case is in the queue anyway)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        for attempt in range(self.attempts):
            try:
                async with self._session.post(url, json=body) as resp:
                    if resp.status < 300:
                        log.info("staff notified", target=target, case=case_id)
                        return
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__  # type: ignore[assignment]
            log.warning("staff notification failed", target=target, case=case_id, status=status, attempt=attempt + 1)
            await asyncio.sleep(0.5 * 2**attempt)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
