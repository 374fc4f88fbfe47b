"""Strict loader of Rasa 3.x YAML NLU training data (`version: "3.1"`, `nlu:`).

Only the subset of the format this project writes is accepted, and anything else is an error
rather than silently ignored, so that a file that loads here also loads in Rasa's own tooling:
- top-level keys `version` and `nlu` only;
- `nlu` items with exactly one of `intent` / `synonym` / `regex` / `lookup`, an `examples`
  block string whose every non-blank line is `- <example>`, and optionally `metadata`;
- entity annotations `[text](entity)` or `[text]{"entity": "e", "value": "v"}` (JSON object).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

RASA_VERSION = "3.1"
ITEM_KINDS = ("intent", "synonym", "regex", "lookup")
ALLOWED_TOP_LEVEL = frozenset({"version", "nlu"})
NAME_RE = re.compile(r"^[^\s\[\](){}:]+$")

# Rasa's own annotation grammar: [text](entity) or [text]{json}; `(entity:value)` is deprecated
# in Rasa 3, so we reject it instead of guessing.
ANNOTATION_RE = re.compile(r"\[(?P<text>[^\]\[]+?)\](?:\((?P<entity>[^)(]+?)\)|(?P<json>\{[^}{]+?\}))")


class TrainingDataError(ValueError):
    """A training-data file breaks the Rasa YAML format rules."""


@dataclass(frozen=True, slots=True)
class Annotation:
    entity: str
    value: str  # the annotated text unless a `value` was given (a synonym)
    start: int  # offsets in the plain text
    end: int


@dataclass(frozen=True, slots=True)
class Example:
    text: str  # plain text, annotations removed
    label: str  # intent name
    annotations: tuple[Annotation, ...] = ()
    source: str = ""  # file:line, for error reports


@dataclass(slots=True)
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, list[str]] = field(default_factory=dict)  # value -> variants
    regexes: dict[str, list[str]] = field(default_factory=dict)  # name -> patterns
    lookups: dict[str, list[str]] = field(default_factory=dict)  # name -> elements
    files: list[Path] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return sorted({e.label for e in self.examples})

    def merge(self, other: TrainingData) -> None:
        self.examples.extend(other.examples)
        for target, source in (
            (self.synonyms, other.synonyms),
            (self.regexes, other.regexes),
            (self.lookups, other.lookups),
        ):
            for key, values in source.items():
                target.setdefault(key, []).extend(values)
        self.files.extend(other.files)


def parse_example(line: str, label: str, source: str = "") -> Example:
    """Strip the annotations of one example, keeping their offsets in the plain text."""
    plain: list[str] = []
    annotations: list[Annotation] = []
    pos = 0
    length = 0
    for m in ANNOTATION_RE.finditer(line):
        before = line[pos : m.start()]
        plain.append(before)
        length += len(before)
        text = m.group("text")
        if m.group("entity") is not None:
            entity = m.group("entity").strip()
            if ":" in entity:
                raise TrainingDataError(f"{source}: deprecated [text](entity:value) annotation")
            value = text
        else:
            try:
                spec = json.loads(m.group("json"))
            except json.JSONDecodeError as exc:
                raise TrainingDataError(f"{source}: bad JSON annotation {m.group('json')}") from exc
            if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
                raise TrainingDataError(f'{source}: annotation needs an "entity" string')
            unknown = set(spec) - {"entity", "value", "role", "group"}
            if unknown:
                raise TrainingDataError(f"{source}: unknown annotation keys {sorted(unknown)}")
            entity = spec["entity"]
            value = spec.get("value", text)
            if not isinstance(value, str):
                raise TrainingDataError(f"{source}: annotation value must be a string")
        if not NAME_RE.match(entity):
            raise TrainingDataError(f"{source}: bad entity name {entity!r}")
        annotations.append(Annotation(entity, value, length, length + len(text)))
        plain.append(text)
        length += len(text)
        pos = m.end()
    plain.append(line[pos:])
    text = "".join(plain)
    # Left-over brackets mean a malformed annotation, e.g. "[南西](street" or "[南西]".
    if "[" in text or "]" in text:
        raise TrainingDataError(f"{source}: malformed annotation in {line!r}")
    if not text.strip():
        raise TrainingDataError(f"{source}: empty example")
    return Example(text=text, label=label, annotations=tuple(annotations), source=source)


def _example_lines(block: Any, source: str, first_line: int) -> list[tuple[str, str]]:
    if not isinstance(block, str):
        raise TrainingDataError(f"{source}: `examples` must be a block string (examples: |)")
    lines: list[tuple[str, str]] = []
    for offset, raw in enumerate(block.splitlines()):
        if not raw.strip():
            continue
        where = f"{source}:{first_line + offset + 1}"
        if not raw.startswith("- "):
            raise TrainingDataError(f"{where}: every example must be a '- ' line, got {raw!r}")
        value = raw[2:].strip()
        if not value:
            raise TrainingDataError(f"{where}: empty example")
        lines.append((value, where))
    if not lines:
        raise TrainingDataError(f"{source}: no examples")
    return lines


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of each mapping, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise TrainingDataError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        mapping[key] = loader.construct_object(value_node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def is_nlu_file(path: Path) -> bool:
    """Rasa treats a YAML file with a top-level `nlu` key as NLU data; config.yml is not."""
    if path.suffix not in (".yml", ".yaml"):
        return False
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return isinstance(doc, dict) and "nlu" in doc


def load_file(path: Path) -> TrainingData:
    text = path.read_text(encoding="utf-8")
    name = path.name
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TrainingDataError(f"{name}: invalid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise TrainingDataError(f"{name}: top level must be a mapping")
    doc.pop("__line__", None)
    unknown = set(doc) - ALLOWED_TOP_LEVEL
    if unknown:
        raise TrainingDataError(f"{name}: unknown top-level keys {sorted(unknown)}")
    if doc.get("version") != RASA_VERSION:
        raise TrainingDataError(f'{name}: version must be the string "{RASA_VERSION}"')
    items = doc.get("nlu")
    if not isinstance(items, list) or not items:
        raise TrainingDataError(f"{name}: `nlu` must be a non-empty list")
    data = TrainingData(files=[path])
    for item in items:
        if not isinstance(item, dict):
            raise TrainingDataError(f"{name}: every `nlu` item must be a mapping")
        line = int(item.pop("__line__", 0))
        where = f"{name}:{line}"
        kinds = [k for k in ITEM_KINDS if k in item]
        if len(kinds) != 1:
            raise TrainingDataError(f"{where}: needs exactly one of {ITEM_KINDS}")
        kind = kinds[0]
        unknown = set(item) - {kind, "examples", "metadata"}
        if unknown:
            raise TrainingDataError(f"{where}: unknown keys {sorted(unknown)}")
        label = item[kind]
        if not isinstance(label, str) or not label.strip():
            raise TrainingDataError(f"{where}: `{kind}` must be a non-empty string")
        if kind == "intent" and not NAME_RE.match(label):
            raise TrainingDataError(f"{where}: bad intent name {label!r}")
        lines = _example_lines(item.get("examples"), name, line)
        if kind == "intent":
            data.examples.extend(parse_example(t, label, w) for t, w in lines)
        elif kind == "synonym":
            data.synonyms.setdefault(label, []).extend(_plain(t, w) for t, w in lines)
        elif kind == "lookup":
            data.lookups.setdefault(label, []).extend(_plain(t, w) for t, w in lines)
        else:
            for pattern, w in lines:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise TrainingDataError(f"{w}: bad regex {pattern!r}: {exc}") from exc
            data.regexes.setdefault(label, []).extend(t for t, _ in lines)
    return data


def _plain(value: str, where: str) -> str:
    if ANNOTATION_RE.search(value):
        raise TrainingDataError(f"{where}: synonyms and lookups take plain text, not annotations")
    return value


def nlu_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and is_nlu_file(p))


def load(root: Path) -> TrainingData:
    """Load every NLU file under `root` (a file or a directory, recursively, like Rasa)."""
    data = TrainingData()
    files = nlu_files(root)
    if not files:
        raise TrainingDataError(f"no NLU training data under {root}")
    for path in files:
        data.merge(load_file(path))
    return data


def content_hash(paths: Iterable[Path], extra: str = "") -> str:
    """Hash of the files' names and bytes: the key of the trained-model cache."""
    h = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]
