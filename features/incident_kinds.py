"""The incident fusion file, checked: kinds of incident and the channels' categories for each.

``infra/config/incident_fusion.yaml`` names, per kind of incident, the
category each channel reports it under; every kind has a grid category and
each channel's category belongs to that channel (:mod:`features.taxonomy`).
"""

from __future__ import annotations

from collections.abc import Mapping

from features.taxonomy import CATEGORIES_BY_SOURCE

__all__ = ["EVIDENCE", "incident_fusion_rules"]

#: The evidence of a candidate pair (models/incident_fusion.pair_evidence), each
#: with a weight of the linker.
EVIDENCE = ("closeness", "simultaneity", "text_similarity", "both_texts", "shared_entities")

_BOUNDS = ("max_distance_m", "max_gap_minutes", "min_confidence")


def incident_fusion_rules(raw: object) -> dict:
    """``{"incident_kinds": {kind: {channel: category}}, "max_distance_m", "max_gap_minutes", "min_confidence", "linker", "count_incidents"}``.

    ``linker`` holds the declared ``intercept`` and weights of
    :func:`models.incident_fusion.link_confidence`; ``count_incidents``
    (default false) whether the hotspot job counts incidents, not reports.

    >>> incident_fusion_rules({"incident_kinds": {"fight": {"video": "video.camera_alarm"}},
    ...                        "max_distance_m": 400, "max_gap_minutes": 60, "min_confidence": 0.5})
    Traceback (most recent call last):
    ...
    ValueError: incident kind 'fight' needs a grid category, got {'video': 'video.camera_alarm'}
    """
    if not isinstance(raw, Mapping) or not isinstance(raw.get("incident_kinds"), Mapping):
        raise ValueError("expected a mapping with 'incident_kinds:' (kind -> channel -> category)")
    kinds = {}
    for kind, channels in raw["incident_kinds"].items():
        if not isinstance(channels, Mapping) or "grid" not in channels:
            raise ValueError(f"incident kind {kind!r} needs a grid category, got {channels!r}")
        for channel, category in channels.items():
            if category not in CATEGORIES_BY_SOURCE.get(channel, ()):
                raise ValueError(
                    f"incident kind {kind!r}: {channel}={category!r} is not a category "
                    f"of the {channel!r} channel"
                )
        kinds[str(kind)] = {str(c): str(v) for c, v in channels.items()}
    rules = {"incident_kinds": kinds}
    for name in _BOUNDS:
        value = raw.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name}={value!r} must be a number > 0")
        rules[name] = float(value)
    if rules["min_confidence"] >= 1:
        raise ValueError(f"min_confidence={rules['min_confidence']!r} must be below 1")
    rules["linker"] = _linker(raw.get("linker"))
    count = raw.get("count_incidents", False)
    if not isinstance(count, bool):
        raise ValueError(f"count_incidents={count!r} must be true or false")
    rules["count_incidents"] = count
    return rules


def _linker(raw: object) -> dict[str, float]:
    """The linker's declared ``intercept`` and one weight per piece of evidence."""
    names = ("intercept", *EVIDENCE)
    if not isinstance(raw, Mapping) or sorted(raw) != sorted(names):
        got = sorted(raw) if isinstance(raw, Mapping) else raw
        raise ValueError(f"linker needs exactly {list(names)}; got {got!r}")
    for name in names:
        if not isinstance(raw[name], int | float) or isinstance(raw[name], bool):
            raise ValueError(f"linker.{name}={raw[name]!r} must be a number")
    return {name: float(raw[name]) for name in names}
