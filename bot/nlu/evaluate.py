"""Evaluation like `rasa test nlu`: k-fold cross-validation on nlu_data/, and the category
classifier on the civic-messages test split (`minsheng nlu eval [--civic] [--folds K]`)."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from dialogs.categories import standard_of

from .engine import (
    DEFAULT_NLU_DATA,
    REPO_ROOT,
    BuiltinUnderstander,
    features,
    load_data,
    load_or_train,
    tokenizer,
    train_linear,
)
from .entities import EntityExtractor, mask, normalize
from .training_data import TrainingData

DEFAULT_CIVIC_DIR = REPO_ROOT.parent / "shared" / "data" / "civic_messages"  # ../shared/... of the repo
CIVIC_LABELS = ("城乡建设", "劳动和社会保障", "教育文体", "商贸旅游", "环境保护", "卫生计生", "交通运输")


@dataclass(slots=True)
class Report:
    accuracy: float
    macro_f1: float
    per_label: dict[str, tuple[float, float, float, int]]  # precision, recall, f1, support
    confusions: list[tuple[str, str, int]] = field(default_factory=list)
    errors: list[tuple[str, str, str, float]] = field(default_factory=list)  # text, true, pred, conf


def scores(true: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> Report:
    per: dict[str, tuple[float, float, float, int]] = {}
    for label in labels:
        tp = sum(1 for t, p in zip(true, pred, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(true, pred, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(true, pred, strict=True) if t == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[label] = (precision, recall, f1, tp + fn)
    accuracy = sum(1 for t, p in zip(true, pred, strict=True) if t == p) / max(1, len(true))
    macro = sum(v[2] for v in per.values()) / max(1, len(per))
    confusions = Counter((t, p) for t, p in zip(true, pred, strict=True) if t != p)
    return Report(accuracy, macro, per, [(t, p, n) for (t, p), n in confusions.most_common()])


def print_report(report: Report, title: str, out: TextIO, max_errors: int = 40) -> None:
    print(f"\n== {title} ==", file=out)
    width = max(len(k) for k in report.per_label) + 2
    print(f"{'label':<{width}} precision  recall     f1  support", file=out)
    for label, (p, r, f, n) in sorted(report.per_label.items()):
        print(f"{label:<{width}} {p:9.3f} {r:7.3f} {f:6.3f} {n:8d}", file=out)
    print(f"accuracy {report.accuracy:.4f}   macro-F1 {report.macro_f1:.4f}", file=out)
    if report.confusions:
        print("confusions (true -> predicted: count):", file=out)
        for true, pred, count in report.confusions[:30]:
            print(f"  {true} -> {pred}: {count}", file=out)
    if report.errors:
        print(f"errors ({len(report.errors)}, first {max_errors}):", file=out)
        for text, true, pred, conf in report.errors[:max_errors]:
            print(f"  [{true} -> {pred} {conf:.2f}] {text[:80]}", file=out)


def _folds(labels: Sequence[str], k: int, seed: int) -> list[list[int]]:
    """Stratified folds: each label's examples dealt round-robin after a seeded shuffle."""
    import random

    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    folds: list[list[int]] = [[] for _ in range(k)]
    offset = 0
    for label in sorted(by_label):
        idx = by_label[label]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            folds[(j + offset) % k].append(i)
        offset += len(idx)
    return folds


def cross_validate(data: TrainingData, extractor: EntityExtractor, k: int = 5, seed: int = 0) -> Report:
    """Train on k-1 folds, predict the held-out fold; every example is predicted exactly once."""
    tk = tokenizer(extractor.place_words())
    feats = [features(mask(normalize(e.text), extractor.extract(e.text)), tk) for e in data.examples]
    labels = [e.label for e in data.examples]
    pred: list[str] = [""] * len(labels)
    conf: list[float] = [0.0] * len(labels)
    for fold in _folds(labels, k, seed):
        held = set(fold)
        train_idx = [i for i in range(len(labels)) if i not in held]
        model = train_linear([feats[i] for i in train_idx], [labels[i] for i in train_idx])
        for i in fold:
            pred[i], conf[i] = model.predict(feats[i])
    report = scores(labels, pred, sorted(set(labels)))
    report.errors = [(e.text, labels[i], pred[i], conf[i]) for i, e in enumerate(data.examples) if labels[i] != pred[i]]
    return report


def eval_cross_validation(
    nlu_data: Path = DEFAULT_NLU_DATA, folds: int = 5, out: TextIO | None = None
) -> dict[str, Report]:
    out = out or sys.stdout
    intents, categories = load_data(nlu_data)
    extractor = EntityExtractor(intents)
    reports = {
        "intents": cross_validate(intents, extractor, folds),
        "categories": cross_validate(categories, extractor, folds),
    }
    for name, report in reports.items():
        print_report(report, f"{name}: {folds}-fold cross-validation", out)
    return reports


def read_civic(civic_dir: Path, split: str = "test") -> list[tuple[str, str]]:
    with (civic_dir / "messages.tsv").open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(r["label"], r["text"]) for r in rows if r["split"] == split]


def eval_civic(
    understander: BuiltinUnderstander | None = None,
    civic_dir: Path = DEFAULT_CIVIC_DIR,
    split: str = "test",
    out: TextIO | None = None,
) -> Report | None:
    """Category -> level-1 label on real messages; None (with a message) if the data is absent."""
    out = out or sys.stdout
    if not (civic_dir / "messages.tsv").is_file():
        print(f"civic evaluation skipped: {civic_dir}/messages.tsv not found", file=out)
        return None
    understander = understander or BuiltinUnderstander(load_or_train(DEFAULT_NLU_DATA))
    rows = read_civic(civic_dir, split)
    true, pred = [], []
    errors: list[tuple[str, str, str, float]] = []
    for label, text in rows:
        category, confidence = understander.classify_category(text)
        # A category mapping to None ("other") or to a label outside the 7 counts as wrong.
        predicted = standard_of(category) or f"({category})"
        true.append(label)
        pred.append(predicted)
        if predicted != label:
            errors.append((text, label, f"{predicted}/{category}", confidence))
    report = scores(true, pred, CIVIC_LABELS)
    report.errors = errors
    print_report(report, f"civic messages, split {split} ({len(rows)} messages)", out, max_errors=15)
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="minsheng nlu eval", description=__doc__)
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--civic", action="store_true", help="also classify the civic test split")
    parser.add_argument(
        "--civic-dir",
        type=Path,
        default=Path(os.environ.get("MINSHENG_CIVIC_DIR", DEFAULT_CIVIC_DIR)),
        help="folder of messages.tsv (default ../shared/data/civic_messages)",
    )
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--data", type=Path, default=DEFAULT_NLU_DATA, help="nlu_data directory")
    if argv and argv[0] == "eval":  # called as `minsheng nlu eval ...` with the subcommand kept
        argv = argv[1:]
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    eval_cross_validation(args.data, args.folds)
    if args.civic:
        eval_civic(BuiltinUnderstander(load_or_train(args.data)), args.civic_dir, args.split)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
