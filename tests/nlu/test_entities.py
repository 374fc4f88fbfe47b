from __future__ import annotations

import pytest

from bot.nlu import training_data as td
from bot.nlu.engine import BuiltinUnderstander
from bot.nlu.entities import EntityExtractor, normalize
from dialogs.places import STREETS, short_name

SHORT_FORMS = {
    "静安寺街道": ["静安寺", "静安寺那边", "jing'an temple"],
    "南京西路街道": ["南西", "南京西路街道办", "West Nanjing Rd"],
    "江宁路街道": ["江宁", "江宁路那边"],
    "石门二路街道": ["石二", "石门二路那边"],
    "曹家渡街道": ["曹家渡", "caojiadu"],
    "天目西路街道": ["天目西", "天目西路那边"],
    "北站街道": ["北站", "老北站"],
    "宝山路街道": ["宝山路那边", "宝山路街道办"],
    "芷江西路街道": ["芷江西路", "芷江"],
    "共和新路街道": ["共和新", "共和新路那边"],
    "大宁路街道": ["大宁", "大宁那边", "daning"],
    "彭浦新村街道": ["彭浦新村", "彭新"],
    "临汾路街道": ["临汾", "临汾路那边"],
    "彭浦镇": ["彭浦镇那边", "彭镇", "pengpu town"],
}


@pytest.fixture(scope="module")
def extractor(nlu: BuiltinUnderstander) -> EntityExtractor:
    return nlu.extractor


def streets(extractor: EntityExtractor, text: str) -> list[str]:
    seen: list[str] = []
    for e in extractor.extract(text):
        if e.entity == "street" and e.value not in seen:
            seen.append(e.value)
    return seen


def test_every_street_has_short_forms_under_test() -> None:
    assert set(SHORT_FORMS) == set(STREETS)


@pytest.mark.parametrize(("street", "form"), [(s, f) for s, forms in SHORT_FORMS.items() for f in forms])
def test_short_forms_resolve(extractor: EntityExtractor, street: str, form: str) -> None:
    assert streets(extractor, f"我住在{form}这边") == [street]
    assert streets(extractor, form) == [street]


@pytest.mark.parametrize("street", STREETS)
def test_canonical_and_shortest_names(extractor: EntityExtractor, street: str) -> None:
    assert streets(extractor, street) == [street]
    if street != "彭浦镇":  # 彭浦 alone is both 彭浦新村 and 彭浦镇
        assert street in streets(extractor, short_name(street) + "这块")


def test_every_synonym_in_the_data_resolves(nlu_data, extractor: EntityExtractor) -> None:  # type: ignore[no-untyped-def]
    data = td.load(nlu_data / "intents")
    for street in STREETS:
        for variant in data.synonyms[street]:
            assert streets(extractor, variant) == [street], variant


def test_road_in_two_streets(extractor: EntityExtractor) -> None:
    found = extractor.extract("常德路那边路口没红绿灯")
    assert [(e.entity, e.value) for e in found] == [
        ("road", "常德路"),
        ("street", "静安寺街道"),
        ("street", "江宁路街道"),
    ]
    assert all((e.start, e.end, e.text) == (0, 3, "常德路") for e in found)


def test_landmark(extractor: EntityExtractor) -> None:
    found = extractor.extract("张园门口人太多")
    assert ("landmark", "张园") in [(e.entity, e.value) for e in found]
    assert streets(extractor, "张园门口人太多") == ["南京西路街道"]
    assert streets(extractor, "near Jing'an Park") == ["静安寺街道"]


def test_longest_match_wins(extractor: EntityExtractor) -> None:
    assert streets(extractor, "南京西路街道") == ["南京西路街道"]
    assert set(streets(extractor, "南京西路上")) == {"南京西路街道", "静安寺街道"}
    assert streets(extractor, "石门一路") == ["南京西路街道"]


def test_district(extractor: EntityExtractor) -> None:
    for text in ("全区", "整个静安都这样", "全区范围", "the whole district"):
        assert [e.value for e in extractor.extract(text) if e.entity == "district"] == ["全区"], text


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("13812345678", "13812345678"),
        ("我的电话是13912345678谢谢", "13912345678"),
        ("139 1234 5678", "13912345678"),
        ("186-2100-6688", "18621006688"),
        ("电话１３８１２３４５６７８", "13812345678"),  # full-width digits
    ],
)
def test_phone(extractor: EntityExtractor, text: str, phone: str) -> None:
    found = [e for e in extractor.extract(text) if e.entity == "phone"]
    assert [e.value for e in found] == [phone]
    assert normalize(text[found[0].start : found[0].end]).replace(" ", "").replace("-", "") == phone


@pytest.mark.parametrize("text", ["12345678901", "021-62345678", "138123456789", "23812345678"])
def test_not_a_phone(extractor: EntityExtractor, text: str) -> None:
    assert not [e for e in extractor.extract(text) if e.entity == "phone"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("JA-2026-000123", "JA-2026-000123"),
        ("查一下ja-2026-123", "JA-2026-000123"),
        ("JA2026000045怎么样了", "JA-2026-000045"),
        ("123号建议处理到哪了", "123"),
        ("我那个123号的建议", "123"),
        ("第88号处理完了吗", "88"),
        ("编号2041的建议", "2041"),
        ("建议56号怎么样了", "56"),
        ("any news on #57", "57"),
        ("is suggestion 214 done", "214"),
    ],
)
def test_suggestion_id(extractor: EntityExtractor, text: str, value: str) -> None:
    assert [e.value for e in extractor.extract(text) if e.entity == "suggestion_id"] == [value]


def test_house_number_is_not_a_suggestion_id(extractor: EntityExtractor) -> None:
    assert not [e for e in extractor.extract("康定路123号门口") if e.entity == "suggestion_id"]


def test_language(extractor: EntityExtractor) -> None:
    assert [e.value for e in extractor.extract("换成英文") if e.entity == "language"] == ["en"]
    assert [e.value for e in extractor.extract("Chinese please") if e.entity == "language"] == ["zh"]


def test_offsets_refer_to_the_original_text(extractor: EntityExtractor) -> None:
    text = "ＡＢ,去南西看看"
    (e,) = [e for e in extractor.extract(text) if e.entity == "street"]
    assert text[e.start : e.end] == "南西" == e.text


def test_unknown_area_table_is_rejected() -> None:
    data = td.TrainingData(lookups={"in_浦东新区": ["世纪大道"]})
    with pytest.raises(ValueError, match="not a Jing'an street"):
        EntityExtractor(data)
