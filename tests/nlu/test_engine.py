from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from bot.nlu import build_understander, training_data
from bot.nlu.engine import (
    INTENTS_DIR,
    BuiltinUnderstander,
    data_key,
    featurize_examples,
    load_or_train,
    tokenizer,
    train_linear,
)
from bot.nlu.entities import EntityExtractor
from bot.nlu.evaluate import cross_validate
from dialogs.categories import BY_KEY


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("你好", "greet"),
        ("我想说个事", "make_suggestion"),
        ("那个厕所老人用不了", "make_suggestion"),
        ("对对对", "affirm"),
        ("不要了", "deny"),
        ("返回", "back"),
        ("跳过", "skip"),
        ("转人工", "request_human"),
        ("着火了", "emergency"),
        ("我家楼上漏水到我家了", "private_complaint"),
        ("hi, can I suggest something about bike lanes?", "make_suggestion"),
        ("what's the status of JA-2026-000128", "check_status"),
        ("I don't understand", "repeat"),
    ],
)
async def test_parse_intents(nlu: BuiltinUnderstander, text: str, intent: str) -> None:
    u = await nlu.parse(text)
    assert u.intent == intent, (text, u.intent_ranking[:3])
    assert u.confidence >= nlu.intent_threshold
    assert u.intent_ranking[0][0] == intent
    assert all(a[1] >= b[1] for a, b in itertools.pairwise(u.intent_ranking))


async def test_unpunctuated_voice_text(nlu: BuiltinUnderstander) -> None:
    u = await nlu.parse("你好我想提个建议就是常德路那边路口没有红绿灯老人过马路很危险")
    assert u.intent == "make_suggestion"
    assert set(u.values("street")) == {"静安寺街道", "江宁路街道"}
    assert u.values("road") == ["常德路"]
    assert u.category == "transport"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("公共厕所太旧了老人和小孩都用不了", "urban"),
        ("公交车要等半个小时才来一班", "transport"),
        ("楼下饭店的油烟太大了", "environment"),
        ("社区能不能办个老年助餐点", "elderly"),
        ("社区医院开不到常用药", "health"),
        ("小学课后托管太早结束了", "education"),
        ("物业报修一个礼拜都没人来", "community"),
        ("菜场的秤不准短斤少两", "business"),
        ("电动车在楼道里充电太危险了", "safety"),
    ],
)
async def test_categories(nlu: BuiltinUnderstander, text: str, category: str) -> None:
    u = await nlu.parse(text)
    assert u.category == category, u
    assert u.category in BY_KEY


@pytest.mark.parametrize("text", ["", "   ", "1", "2", "0", "？？", "12"])
async def test_digits_and_punctuation_are_unsure(nlu: BuiltinUnderstander, text: str) -> None:
    u = await nlu.parse(text)
    assert u.intent is None and u.category is None


async def test_entities_come_with_the_intent(nlu: BuiltinUnderstander) -> None:
    u = await nlu.parse("请回电话 139 1234 5678")
    assert u.intent == "request_callback"
    assert u.values("phone") == ["13912345678"]
    u = await nlu.parse("123号建议处理到哪了")
    assert u.intent == "check_status" and u.values("suggestion_id") == ["123"]


async def test_unsure_below_threshold(nlu: BuiltinUnderstander) -> None:
    strict = BuiltinUnderstander(nlu.model, intent_threshold=1.01, category_threshold=1.01)
    u = await strict.parse("你好")
    assert u.intent is None and u.category is None
    assert u.intent_ranking[0][0] == "greet"  # the guess is still reported


async def test_long_text_is_cut_not_rejected(nlu: BuiltinUnderstander) -> None:
    u = await nlu.parse("建议多装路灯" * 5000)
    assert u.category is not None


def test_fast_path_matches_sklearn(nlu_data: Path) -> None:
    """The numpy parse path reproduces the sklearn pipeline it was copied from."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier

    data = training_data.load(nlu_data / INTENTS_DIR)
    extractor = EntityExtractor(data)
    feats = featurize_examples(data, extractor, tokenizer(extractor.place_words()))
    labels = [e.label for e in data.examples]
    model = train_linear(feats, labels)
    vec = TfidfVectorizer(analyzer=lambda x: x, sublinear_tf=True, lowercase=False)
    x = vec.fit_transform(feats)
    clf = SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=100, tol=1e-4, random_state=0).fit(x, labels)
    expected = clf.predict_proba(vec.transform(feats[:50]))
    got = np.vstack([model.proba(f) for f in feats[:50]])
    assert np.allclose(got, expected, atol=1e-9)


def test_cache_is_keyed_by_data(tmp_path: Path, nlu_data: Path) -> None:
    cache = tmp_path / "nlu-cache"
    first = load_or_train(nlu_data, cache)
    files = list(cache.glob("model-*.pkl"))
    assert [f.name for f in files] == [f"model-{data_key(nlu_data)}.pkl"]
    started = time.perf_counter()
    second = load_or_train(nlu_data, cache)
    assert time.perf_counter() - started < 1.0
    assert second.key == first.key and second.intents.labels == first.intents.labels
    files[0].write_bytes(b"garbage")  # a corrupt cache is retrained, not fatal
    assert load_or_train(nlu_data, cache).key == first.key


def test_cache_changes_with_the_data(tmp_path: Path, nlu_data: Path) -> None:
    import shutil

    copy = tmp_path / "nlu_data"
    shutil.copytree(nlu_data, copy)
    before = data_key(copy)
    path = copy / "intents" / "nlu_zh.yml"
    path.write_text(path.read_text(encoding="utf-8") + "    - 你好你好呀\n", encoding="utf-8")
    assert data_key(copy) != before


def test_build_understander_builtin(tmp_path: Path) -> None:
    u = build_understander(None, tmp_path)
    assert isinstance(u, BuiltinUnderstander)
    assert list((tmp_path / "nlu-cache").glob("model-*.pkl"))


def test_training_is_fast(nlu_data: Path) -> None:
    model = load_or_train(nlu_data, None)
    assert model.train_seconds < 15


def test_cross_validation_floor(nlu_data: Path) -> None:
    """Every training example is classified by a model trained without it (5 folds)."""
    data = training_data.load(nlu_data / INTENTS_DIR)
    report = cross_validate(data, EntityExtractor(data), k=5)
    assert report.accuracy >= 0.93, report.errors[:20]
    assert sum(n for *_, n in report.per_label.values()) == len(data.examples)
    assert min(f for _, _, f, _ in report.per_label.values()) >= 0.8
