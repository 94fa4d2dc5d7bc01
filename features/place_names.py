"""Name pools for the synthetic villages and communities of a district.

Village names (村) join a surname or a direction to a landscape feature
(王家庄村, 东李峪村); community names (社区) join a local root to a suffix
(鼓楼北区社区).  Names are drawn from a caller-supplied generator, so a
seeded district always gets the same names.
"""

from __future__ import annotations

import random

__all__ = ["draw_village_name"]

# Syllables for plausible village and community names.
_SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "赵",
    "黄",
    "周",
    "吴",
    "孙",
    "马",
    "胡",
    "朱",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "许",
    "韩",
    "冯",
    "邓",
    "曹",
    "彭",
    "曾",
    "田",
    "董",
    "袁",
    "潘",
    "蒋",
    "蔡",
    "杜",
    "程",
    "苏",
    "魏",
    "吕",
    "丁",
    "沈",
    "姚",
    "卢",
    "崔",
    "钟",
    "石",
    "贾",
    "白",
    "孟",
    "秦",
    "史",
    "侯",
    "邵",
    "穆",
    "庞",
    "葛",
    "阎",
)
_VILLAGE_FEATURES = (
    "庄",
    "峪",
    "沟",
    "台",
    "营",
    "店",
    "屯",
    "寨",
    "坨",
    "岭",
    "楼",
    "甸",
    "窑",
    "湾",
    "河",
    "村",
)
_VILLAGE_LINKS = ("家", "各")
_DIRECTIONS = ("东", "西", "南", "北", "前", "后", "上", "下", "大", "小")
_COMMUNITY_ROOTS = (
    "东关",
    "西关",
    "南关",
    "北关",
    "新东",
    "新西",
    "鼓楼",
    "果园",
    "檀州",
    "滨河",
    "云湖",
    "花园",
    "长安",
    "季庄",
    "宾阳",
    "康居",
    "阳光",
    "沿湖",
    "白檀",
    "新华",
    "育才",
    "兴云",
    "明珠",
    "塔南",
    "瑞和",
    "上河",
    "丽苑",
    "清水",
    "绿荫",
    "朝阳",
    "新北",
    "府前",
)
_COMMUNITY_SUFFIXES = ("", "里", "苑", "园", "北区", "南区", "家园")


def draw_village_name(rng: random.Random, kind: str) -> str:
    """Draw a plausible name for a village (村) or a community (社区).

    Parameters
    ----------
    rng : random.Random
        Source of randomness; the name is a deterministic function of its
        state.
    kind : {'村', '社区'}
        Kind of the village-level unit; a community name ends in 社区,
        anything else is named as a village and ends in 村.

    Returns
    -------
    str

    Examples
    --------
    >>> import random
    >>> draw_village_name(random.Random(1), "社区").endswith("社区")
    True
    >>> draw_village_name(random.Random(1), "村").endswith("村")
    True
    """
    if kind == "社区":
        return rng.choice(_COMMUNITY_ROOTS) + rng.choice(_COMMUNITY_SUFFIXES) + "社区"
    if rng.random() < 0.6:
        root = rng.choice(_SURNAMES) + rng.choice(_VILLAGE_LINKS) + rng.choice(_VILLAGE_FEATURES)
    else:
        root = rng.choice(_DIRECTIONS) + rng.choice(_SURNAMES) + rng.choice(_VILLAGE_FEATURES)
    return root if root.endswith("村") else root + "村"
