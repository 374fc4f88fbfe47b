from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.nlu.engine import BuiltinUnderstander
from bot.nlu.evaluate import CIVIC_LABELS, DEFAULT_CIVIC_DIR, eval_civic, main, scores


def test_scores() -> None:
    r = scores(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    assert r.accuracy == 0.75
    assert r.per_label["a"] == (1.0, 0.5, pytest.approx(2 / 3), 2)
    assert r.confusions == [("a", "b", 1)]


def test_civic_skips_when_absent(tmp_path: Path, nlu: BuiltinUnderstander) -> None:
    out = io.StringIO()
    assert eval_civic(nlu, tmp_path / "nowhere", out=out) is None
    assert "skipped" in out.getvalue()


def test_civic_mapping_on_a_small_file(tmp_path: Path, nlu: BuiltinUnderstander) -> None:
    """Our own sentences in the civic file layout: the category -> label mapping is applied,
    and "other" counts as wrong."""
    rows = [
        ("test", "交通运输", "公交车班次太少了等车要半小时"),
        ("test", "环境保护", "饭店油烟直排熏得窗户都不敢开"),
        ("test", "教育文体", "小学放学太早了课后服务要延长"),
        ("test", "城乡建设", "户口迁移手续太麻烦了"),  # "other" -> wrong
        ("dev", "城乡建设", "不会被读到"),
    ]
    (tmp_path / "messages.tsv").write_text(
        "split\tlabel\ttext\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8"
    )
    out = io.StringIO()
    report = eval_civic(nlu, tmp_path, out=out)
    assert report is not None
    assert set(report.per_label) == set(CIVIC_LABELS)
    assert report.accuracy == 0.75
    assert "(other)" in out.getvalue()


@pytest.mark.skipif(not (DEFAULT_CIVIC_DIR / "messages.tsv").is_file(), reason="civic data absent")
def test_civic_test_split_runs(nlu: BuiltinUnderstander) -> None:
    report = eval_civic(nlu, DEFAULT_CIVIC_DIR, out=io.StringIO())
    assert report is not None and report.macro_f1 > 0.5


def test_main(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["eval", "--folds", "3", "--civic", "--civic-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "intents: 3-fold cross-validation" in out and "skipped" in out
