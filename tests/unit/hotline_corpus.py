"""Small hotline corpora for the router's tests: words that name each class, and messages of them."""

from __future__ import annotations

import pandas as pd

#: Five words of each of the seven reference classes, in the words of real messages.
WORDS = {
    "城乡建设": ["物业", "违建", "电梯", "拆迁", "停车"],
    "劳动和社会保障": ["社保", "工资", "退休", "失业", "公积金"],
    "教育文体": ["学校", "老师", "招生", "补课", "幼儿园"],
    "卫生计生": ["医院", "医生", "疫苗", "诊所", "护士"],
    "交通运输": ["公交", "出租车", "地铁", "班车", "客运"],
    "商贸旅游": ["商场", "景区", "导游", "超市", "酒店"],
    "环境保护": ["污水", "噪音", "废气", "排污", "扬尘"],
}
#: Three of them, for tests that need only a few classes.
THREE = ("城乡建设", "卫生计生", "教育文体")

#: Six one-line messages of two classes.
TEXTS = [
    "小区物业乱收费",
    "物业不作为",
    "小区违章搭建",
    "医院乱收费",
    "医生态度恶劣",
    "诊所无证行医",
]
LABELS = ["城乡建设"] * 3 + ["卫生计生"] * 3


def labelled_messages(per_class: int, classes=THREE) -> pd.DataFrame:
    """``per_class`` messages of each class (``title``, ``body``, ``label``), separable by their words."""
    rows = []
    for label in classes:
        words = WORDS[label]
        for i in range(per_class):
            word, other = words[i % len(words)], words[(i + 1) % len(words)]
            rows.append({"title": word, "body": f"{word}{other}", "label": label})
    return pd.DataFrame(rows)
