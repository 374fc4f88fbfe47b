"""The fixed category taxonomy of a suggestion.

`standard` is the level-1 class of the official government-message classification
(taxonomy.csv of the civic evaluation data) that a category maps to, so that case systems using
that classification can route a record. Labels shown to residents live in the text catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    standard: str | None


CATEGORIES: tuple[Category, ...] = (
    Category("urban", "城乡建设"),  # 城市建设与管理
    Category("transport", "交通运输"),  # 交通出行
    Category("environment", "环境保护"),  # 环境与绿化
    Category("elderly", "劳动和社会保障"),  # 养老与社会服务
    Category("health", "卫生计生"),  # 卫生健康
    Category("education", "教育文体"),  # 教育文体
    Category("community", "城乡建设"),  # 社区与物业 (小区管理 sits under 城乡建设)
    Category("business", "商贸旅游"),  # 营商环境
    Category("safety", "城乡建设"),  # 公共安全 (安全生产 sits under 城乡建设)
    Category("other", None),
)

BY_KEY: dict[str, Category] = {c.key: c for c in CATEGORIES}


def standard_of(key: str | None) -> str | None:
    category = BY_KEY.get(key or "")
    return category.standard if category else None
