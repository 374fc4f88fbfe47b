from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlu import build_builtin
from bot.nlu.engine import DEFAULT_NLU_DATA, BuiltinUnderstander


@pytest.fixture(scope="session")
def nlu_data() -> Path:
    return DEFAULT_NLU_DATA


@pytest.fixture(scope="session")
def nlu(tmp_path_factory: pytest.TempPathFactory) -> BuiltinUnderstander:
    """The built-in engine trained once for the session (cache in a temporary data dir)."""
    return build_builtin(tmp_path_factory.mktemp("nlu-data-dir"))
