"""Jing'an's 14 streets and towns, the unit a suggestion's location resolves to.

Loose names (南西, 大宁, roads, landmarks) are resolved by the NLU from `nlu_data/`; this module
only knows the canonical list and its order for numbered choices.
"""

from __future__ import annotations

STREETS: tuple[str, ...] = (
    "静安寺街道",
    "南京西路街道",
    "江宁路街道",
    "石门二路街道",
    "曹家渡街道",
    "天目西路街道",
    "北站街道",
    "宝山路街道",
    "芷江西路街道",
    "共和新路街道",
    "大宁路街道",
    "彭浦新村街道",
    "临汾路街道",
    "彭浦镇",
)

DISTRICT_WIDE = "全区"


def short_name(street: str) -> str:
    """静安寺街道 → 静安寺, 彭浦镇 stays: used for compact numbered choices."""
    return street.removesuffix("街道")
