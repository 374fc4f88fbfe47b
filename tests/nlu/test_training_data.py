"""nlu_data/ follows Rasa's YAML training-data format strictly, and covers what the bot needs."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.nlu import training_data as td
from bot.nlu.engine import CATEGORIES_DIR, INTENTS_DIR
from dialogs.categories import CATEGORIES
from dialogs.places import DISTRICT_WIDE, STREETS

REQUIRED_INTENTS = {
    "greet", "goodbye", "thanks", "make_suggestion", "check_status", "my_suggestions",
    "list_campaigns", "how_to_write", "request_human", "request_callback", "affirm", "deny",
    "back", "skip", "restart", "cancel", "repeat", "elderly_mode", "switch_language",
    "private_complaint", "emergency", "out_of_scope",
}  # fmt: skip
CJK = re.compile(r"[\u4e00-\u9fff]")


def yaml_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yml") if p.name != "config.yml")


def test_every_yaml_file_is_strict_rasa_nlu(nlu_data: Path) -> None:
    files = yaml_files(nlu_data)
    assert len(files) >= 4
    for path in files:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(raw) <= {"version", "nlu"}, path
        assert raw["version"] == "3.1" and isinstance(raw["version"], str), path
        td.load_file(path)  # raises on any format violation


def test_block_examples_are_dash_lines(nlu_data: Path) -> None:
    """Check the text itself, not only what YAML makes of it: every example line is `    - x`."""
    for path in yaml_files(nlu_data):
        in_block = False
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip().startswith("examples: |"):
                in_block = True
                continue
            if in_block and line.startswith("    "):
                assert line.startswith("    - ") and line[6:].strip(), f"{path.name}:{n}"
            elif line.strip():
                in_block = False


def test_config_is_a_rasa_nlu_pipeline(nlu_data: Path) -> None:
    config = yaml.safe_load((nlu_data / "config.yml").read_text(encoding="utf-8"))
    assert config["language"] == "zh"
    names = [c["name"] for c in config["pipeline"]]
    assert names[0] == "JiebaTokenizer"
    assert "EntitySynonymMapper" in names and "DIETClassifier" in names
    assert any("Featurizer" in n for n in names)


def test_intents_cover_the_dialog(nlu_data: Path) -> None:
    data = td.load(nlu_data / INTENTS_DIR)
    assert set(data.labels) >= REQUIRED_INTENTS
    zh = Counter(e.label for e in data.examples if CJK.search(e.text))
    en = Counter(e.label for e in data.examples if not CJK.search(e.text))
    for intent in REQUIRED_INTENTS:
        assert zh[intent] >= 25, intent
        assert en[intent] >= 10, intent


def test_categories_match_the_fixed_keys(nlu_data: Path) -> None:
    data = td.load(nlu_data / CATEGORIES_DIR)
    counts = Counter(e.label for e in data.examples)
    assert set(counts) == {c.key for c in CATEGORIES}
    for key, n in counts.items():
        assert n >= 55, key
        assert any(not CJK.search(e.text) for e in data.examples if e.label == key), key


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\W_]+", "", text)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


@pytest.mark.parametrize("sub", [INTENTS_DIR, CATEGORIES_DIR])
def test_no_duplicates_or_near_duplicates(nlu_data: Path, sub: str) -> None:
    data = td.load(nlu_data / sub)
    seen: dict[str, str] = {}
    for ex in data.examples:
        key = _norm(ex.text)
        assert key not in seen, f"{ex.text!r} ({ex.label}) duplicates an example of {seen.get(key)}"
        seen[key] = ex.label
    by_label: dict[str, list[str]] = {}
    for ex in data.examples:
        by_label.setdefault(ex.label, []).append(_norm(ex.text))
    for label, texts in by_label.items():
        grams = [(t, _bigrams(t)) for t in texts if len(t) >= 6]
        for i, (a, ga) in enumerate(grams):
            for b, gb in grams[i + 1 :]:
                jaccard = len(ga & gb) / len(ga | gb)
                assert jaccard < 0.8, f"near-duplicates in {label}: {a!r} / {b!r}"


def test_places_are_consistent(nlu_data: Path) -> None:
    data = td.load(nlu_data / INTENTS_DIR)
    roads, landmarks = set(data.lookups["road"]), set(data.lookups["landmark"])
    assert not roads & landmarks
    areas = {name.removeprefix("in_"): set(v) for name, v in data.lookups.items() if name.startswith("in_")}
    assert set(areas) == set(STREETS)  # every street has its table
    for street, elements in areas.items():
        assert elements <= roads | landmarks, (street, elements - roads - landmarks)
    placed = set().union(*areas.values())
    assert roads | landmarks <= placed, (roads | landmarks) - placed
    for street in STREETS:  # every street has colloquial forms
        assert data.synonyms.get(street), street
    assert DISTRICT_WIDE in data.synonyms
    for value, variants in data.synonyms.items():  # a variant maps to one value only
        for other, others in data.synonyms.items():
            if other != value:
                assert not set(map(str.lower, variants)) & set(map(str.lower, others)), (value, other)
    assert {"phone", "suggestion_id"} <= set(data.regexes)


def test_annotations_point_at_their_text(nlu_data: Path) -> None:
    data = td.load(nlu_data / INTENTS_DIR)
    annotated = [e for e in data.examples if e.annotations]
    assert {a.entity for e in annotated for a in e.annotations} >= {"street", "phone", "suggestion_id", "road"}
    for ex in annotated:
        for a in ex.annotations:
            assert 0 <= a.start < a.end <= len(ex.text)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("version: 3.1\nnlu:\n- intent: a\n  examples: |\n    - x\n", "version"),
        ('version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    x\n', "'- ' line"),
        ('version: "3.1"\nnlu:\n- intent: a\n  examples:\n    - x\n', "block string"),
        ('version: "3.1"\nstories: []\nnlu:\n- intent: a\n  examples: |\n    - x\n', "top-level"),
        ('version: "3.1"\nnlu:\n- intent: a\n  synonym: b\n  examples: |\n    - x\n', "exactly one"),
        ('version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - [南西](street\n', "malformed"),
        ('version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - [南西](street:南京西路街道)\n', "deprecated"),
        ('version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - [南西]{"entity": 1}\n', "entity"),
        ('version: "3.1"\nnlu:\n- regex: a\n  examples: |\n    - (unclosed\n', "bad regex"),
        ('version: "3.1"\nnlu:\n- lookup: a\n  examples: |\n    - [x](y)\n', "plain text"),
        ('version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - x\n  extra: 1\n', "unknown keys"),
        ('version: "3.1"\nnlu: []\n', "non-empty"),
    ],
)
def test_loader_rejects_format_violations(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(td.TrainingDataError, match=re.escape(message)):
        td.load_file(path)


def test_annotation_parsing() -> None:
    ex = td.parse_example('去[南西](street)和[常德路]{"entity": "road", "value": "常德路"}看看', "x")
    assert ex.text == "去南西和常德路看看"
    assert [(a.entity, a.value, ex.text[a.start : a.end]) for a in ex.annotations] == [
        ("street", "南西", "南西"),
        ("road", "常德路", "常德路"),
    ]
