"""Opt-in: Rasa's own `rasa data validate` on nlu_data/ (needs .venv-rasa, see ../shared/RASA.md).

Skipped, with the reason, when .venv-rasa is absent. `rasa data validate` refuses an empty
domain ("Encountered empty domain during validation."), so the test writes an NLU-only domain
listing exactly the intents and entities of the data under test; Rasa then checks the YAML,
the intents against the domain, and examples repeated across intents.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.nlu import training_data as td
from bot.nlu.engine import CATEGORIES_DIR, DEFAULT_NLU_DATA, INTENTS_DIR, REPO_ROOT

RASA = REPO_ROOT / ".venv-rasa" / "bin" / "rasa"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# An NLU-only project has no stories or rules: Rasa says so for every intent. Anything else is news.
EXPECTED_WARNING = re.compile(r"is not used in any story or rule")

pytestmark = pytest.mark.skipif(
    not RASA.exists(), reason=f"Rasa not installed in {RASA.parent.parent} (optional, see ../shared/RASA.md)"
)


def nlu_only_domain(data: td.TrainingData) -> dict[str, object]:
    entities = sorted({a.entity for e in data.examples for a in e.annotations} | set(data.regexes))
    domain: dict[str, object] = {"version": td.RASA_VERSION, "intents": data.labels}
    if entities:
        domain["entities"] = entities
    return domain


def user_warnings(output: str) -> list[str]:
    lines = ANSI.sub("", output).splitlines()
    return [line for line in lines if "UserWarning" in line and not EXPECTED_WARNING.search(line)]


@pytest.mark.parametrize("sub", [INTENTS_DIR, CATEGORIES_DIR])
def test_rasa_data_validate(sub: str, tmp_path: Path) -> None:
    data_dir = DEFAULT_NLU_DATA / sub
    domain = tmp_path / "domain.yml"
    domain.write_text(yaml.safe_dump(nlu_only_domain(td.load(data_dir)), allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    result = subprocess.run(
        [str(RASA), "data", "validate", "--data", str(data_dir), "--domain", str(domain),
         "--config", str(DEFAULT_NLU_DATA / "config.yml")],
        capture_output=True, text=True, env=env, timeout=600, check=False, cwd=tmp_path,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Validating intents" in output, output[-3000:]
    assert not user_warnings(output), user_warnings(output)
