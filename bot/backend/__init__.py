"""Where finalized suggestions go: the `Backend` port and its implementations."""

from bot.backend.port import Backend, BackendUnavailable

__all__ = ["Backend", "BackendUnavailable"]
