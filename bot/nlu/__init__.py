"""Natural-language understanding: the built-in engine trained from `nlu_data/` (Rasa YAML
format) or, with NLU_URL, a Rasa server with the built-in engine as its fallback."""

from __future__ import annotations

from pathlib import Path

from dialogs.understanding import Understander

from .engine import DEFAULT_NLU_DATA, BuiltinUnderstander, load_or_train
from .rasa_client import RasaUnderstander

__all__ = ["BuiltinUnderstander", "RasaUnderstander", "build_builtin", "build_understander"]


def build_builtin(data_dir: Path | None = None, nlu_data: Path = DEFAULT_NLU_DATA) -> BuiltinUnderstander:
    """Train from nlu_data (or load the model cached under data_dir/nlu-cache)."""
    cache = data_dir / "nlu-cache" if data_dir is not None else None
    return BuiltinUnderstander(load_or_train(nlu_data, cache))


def build_understander(
    nlu_url: str | None,
    data_dir: Path | None,
    timeout: float = 2.0,
    nlu_data: Path = DEFAULT_NLU_DATA,
) -> Understander:
    """The Understander for the bot. Synchronous: call once at start-up (a few seconds the first
    time, then a cache hit). `data_dir` is MINSHENG_DATA_DIR (cache location, None: no cache);
    `nlu_data` is the training data (default: the repository's nlu_data/). With `nlu_url` the
    result is a RasaUnderstander; `await understander.close()` on shutdown."""
    builtin = build_builtin(data_dir, nlu_data)
    if nlu_url:
        return RasaUnderstander(nlu_url, builtin, timeout=timeout)
    return builtin
