"""Opt-in: Rasa's own `rasa data validate` on nlu_data/ (needs .venv-rasa, see RASA.md)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.nlu.engine import REPO_ROOT

RASA = REPO_ROOT / ".venv-rasa" / "bin" / "rasa"


@pytest.mark.skipif(not RASA.exists(), reason="Rasa not installed in .venv-rasa (optional, see RASA.md)")
@pytest.mark.parametrize("sub", ["intents", "categories"])
def test_rasa_data_validate(sub: str, tmp_path: Path) -> None:
    domain = tmp_path / "domain.yml"
    domain.write_text('version: "3.1"\n', encoding="utf-8")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    result = subprocess.run(
        [str(RASA), "data", "validate", "--data", str(REPO_ROOT / "nlu_data" / sub), "--domain", str(domain),
         "--config", str(REPO_ROOT / "nlu_data" / "config.yml")],
        capture_output=True, text=True, env=env, timeout=600, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
