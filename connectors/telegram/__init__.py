"""Telegram (aiogram 3): webhook at /telegram or long polling, and pushes (TelegramChannel)."""

from connectors.telegram.channel import TelegramChannel
from connectors.telegram.setup import build_telegram, register
from connectors.telegram.webhook import TelegramConnector

__all__ = ["TelegramChannel", "TelegramConnector", "build_telegram", "register"]
