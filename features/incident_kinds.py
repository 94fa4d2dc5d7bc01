"""The incident fusion file, checked: kinds of incident and the channels' categories for each.

``infra/config/incident_fusion.yaml`` names, per kind of incident, the
category each channel reports it under; every kind has a grid category and
each channel's category belongs to that channel (:mod:`features.taxonomy`).
"""

from __future__ import annotations

from collections.abc import Mapping

from features.taxonomy import CATEGORIES_BY_SOURCE

__all__ = ["incident_fusion_rules"]

_BOUNDS = ("max_distance_m", "max_gap_minutes", "min_confidence")


def incident_fusion_rules(raw: object) -> dict:
    """``{"incident_kinds": {kind: {channel: category}}, "max_distance_m", "max_gap_minutes", "min_confidence"}``.

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
    return rules
