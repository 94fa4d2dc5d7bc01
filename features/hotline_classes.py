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

__all__ = ["hotline_classes"]


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
