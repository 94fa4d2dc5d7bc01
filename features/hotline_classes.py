"""The hotline router's classes, mapped to the platform's hotline categories.

The router predicts the first-level classes of the labelled reference
messages (Chinese labels such as ``城乡建设``); events carry category codes
(``hotline.urban_rural_construction``). The declared mapping
(``hotline_routing.classes_file``) is checked here: every class names a
hotline category of :mod:`features.taxonomy`, and every hotline category is
named by exactly one class.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from types import MappingProxyType

from features.taxonomy import CATEGORIES_BY_SOURCE

__all__ = ["EMPTY_TEXT", "LOW_CONFIDENCE", "NOT_CHINESE", "hotline_classes", "message_routing"]

#: Why a message goes to a dispatcher instead of being routed.
LOW_CONFIDENCE = "low confidence"
NOT_CHINESE = "not Chinese"
EMPTY_TEXT = "empty text"


def hotline_classes(
    mapping: object, categories: Set[str] = CATEGORIES_BY_SOURCE["hotline"]
) -> Mapping[str, str]:
    """``{class label: category code}`` from the file's ``classes:``; ValueError names what is wrong.

    >>> dict(hotline_classes({"classes": {"交通运输": "hotline.transport"}}, {"hotline.transport"}))
    {'交通运输': 'hotline.transport'}
    >>> hotline_classes({"classes": {"交通运输": "grid.x"}}, {"hotline.transport"})
    Traceback (most recent call last):
    ...
    ValueError: class '交通运输' maps to 'grid.x', which is not a hotline category (hotline.transport)
    """
    if not isinstance(mapping, Mapping) or not isinstance(mapping.get("classes"), Mapping):
        raise ValueError("expected a mapping with a 'classes:' mapping of class -> category")
    classes: dict[str, str] = {}
    for label, category in mapping["classes"].items():
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"class label {label!r} must be non-empty text")
        if category not in categories:
            raise ValueError(
                f"class {label!r} maps to {category!r}, which is not a hotline category "
                f"({', '.join(sorted(categories))})"
            )
        if category in classes.values():
            other = next(k for k, v in classes.items() if v == category)
            raise ValueError(f"classes {other!r} and {label!r} both map to {category!r}")
        classes[label.strip()] = category
    unmapped = sorted(set(categories) - set(classes.values()))
    if unmapped:
        raise ValueError(f"no class maps to the hotline categor(ies) {', '.join(unmapped)}")
    return MappingProxyType(classes)


def message_routing(
    result: Mapping | None,
    chinese: float,
    min_chinese_share: float,
    categories: Mapping[str, str],
    departments: Mapping[str, str],
) -> dict:
    """What the router decided for one message, in the platform's terms.

    ``result`` is the router's ``{label, probability, flagged}`` (None when
    the message has no text to read); ``chinese`` the share of Chinese among
    its letters. The message is flagged for a dispatcher, with the reason,
    when it has no text, is not Chinese enough for a router that learned
    only Chinese, or is below the model's confidence threshold.

    >>> message_routing({"label": "交通运输", "probability": 0.9, "flagged": False}, 1.0, 0.3,
    ...                 {"交通运输": "hotline.transport"}, {"hotline.transport": "交通局"})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'label': '交通运输', 'probability': 0.9, 'category': 'hotline.transport',
     'department': '交通局', 'flagged': False, 'flag_reason': None}
    >>> message_routing(None, 0.0, 0.3, {}, {})["flag_reason"]
    'empty text'
    """
    if result is None:
        return {
            "label": None,
            "probability": None,
            "category": None,
            "department": None,
            "flagged": True,
            "flag_reason": EMPTY_TEXT,
        }
    reason = None
    if chinese < min_chinese_share:
        reason = NOT_CHINESE
    elif result["flagged"]:
        reason = LOW_CONFIDENCE
    category = categories[result["label"]]
    return {
        "label": result["label"],
        "probability": result["probability"],
        "category": category,
        "department": departments.get(category),
        "flagged": reason is not None,
        "flag_reason": reason,
    }
