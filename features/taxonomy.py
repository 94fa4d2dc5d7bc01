"""The declared event taxonomy: which categories each channel may report.

Category codes are stable English identifiers; the Chinese labels are what
duty staff and analysts read. The grid categories are the ones the Miyun
article names; the hotline categories are the seven first-level classes of
the 12345-style data in ``shared/data/hotline_teddy2020``; the video tier
reports plate reads and camera alarms.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = [
    "SOURCES",
    "SOURCE_LABELS",
    "CATEGORIES",
    "CATEGORIES_BY_SOURCE",
    "PLATE_READ",
    "category_label",
    "category_group",
    "source_of",
]

#: The three event channels, with the label shown to users.
SOURCE_LABELS = MappingProxyType(
    {
        "grid": "网格上报",
        "hotline": "便民热线",
        "video": "雪亮视频",
    }
)
SOURCES = tuple(SOURCE_LABELS)

_GRID = {
    "public_order.suspicious_person": "可疑人员",
    "public_order.suspicious_vehicle": "可疑车辆",
    "public_order.petty_theft": "小偷小摸",
    "public_order.fight": "打架斗殴",
    "environment.cult_leaflet": "邪教传单",
    "environment.illegal_dumping": "乱倒垃圾",
    "environment.burning": "焚烧秸秆垃圾",
    "environment.late_garbage_collection": "垃圾清运不及时",
    "construction.illegal_construction": "违章建筑",
}
_HOTLINE = {
    "hotline.urban_rural_construction": "城乡建设",
    "hotline.labour_social_security": "劳动和社会保障",
    "hotline.education_culture_sports": "教育文体",
    "hotline.health_family_planning": "卫生计生",
    "hotline.transport": "交通运输",
    "hotline.commerce_tourism": "商贸旅游",
    "hotline.environmental_protection": "环境保护",
}
#: A license-plate read: the one category whose vehicle is seen, not involved.
PLATE_READ = "video.plate_read"

_VIDEO = {
    PLATE_READ: "车牌识别",
    "video.camera_alarm": "视频告警",
}

#: Every category code with its Chinese label.
CATEGORIES = MappingProxyType({**_GRID, **_HOTLINE, **_VIDEO})

#: The categories each channel may report.
CATEGORIES_BY_SOURCE = MappingProxyType(
    {
        "grid": frozenset(_GRID),
        "hotline": frozenset(_HOTLINE),
        "video": frozenset(_VIDEO),
    }
)


def category_label(category: str) -> str:
    """Return the Chinese label of a category code.

    Examples
    --------
    >>> category_label("public_order.fight")
    '打架斗殴'
    """
    try:
        return CATEGORIES[category]
    except KeyError:
        raise ValueError(
            f"category={category!r} is not in the taxonomy; allowed: "
            + ", ".join(sorted(CATEGORIES))
        ) from None


def category_group(category: str) -> str:
    """Return the group of a category code (the part before the dot).

    Examples
    --------
    >>> category_group("environment.burning")
    'environment'
    """
    category_label(category)
    return category.split(".", 1)[0]


def source_of(category: str) -> str:
    """Return the channel that reports a category.

    Examples
    --------
    >>> source_of("hotline.transport"), source_of("environment.burning")
    ('hotline', 'grid')
    """
    for source, categories in CATEGORIES_BY_SOURCE.items():
        if category in categories:
            return source
    category_label(category)  # raises the error naming the allowed codes
    raise AssertionError("unreachable")
