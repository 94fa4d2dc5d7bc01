"""Normalization: a valid raw envelope becomes the normalized record.

The normalized record is what every downstream stage reads: coordinates in
WGS-84, a spatial cell, the jurisdiction chain, local event time, and
personal data replaced by keyed-hash pseudonyms (see ``docs/contract.md``).
Everything here is pure: the caller passes the district, the key and the
clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from features.contract_violation import CONTRACT_VERSION, ContractViolation
from features.coordinates import CRS, to_wgs84
from features.district import District
from features.local_time import DISTRICT_TZ
from features.raw_envelope import epoch_ms, optional_list, parse_timestamp, require_field
from features.record_limits import ContractLimits
from features.record_pseudonyms import (
    channel_attributes,
    event_token,
    pseudonymize_person,
    pseudonymize_vehicle,
)
from features.taxonomy import (
    CATEGORIES,
    CATEGORIES_BY_SOURCE,
    SOURCE_LABELS,
    SOURCES,
    category_group,
)

__all__ = [
    "ROUTER_UNAVAILABLE",
    "NormalizationContext",
    "normalize_event",
]


#: The flag reason of a hotline event the router could not read (it failed).
ROUTER_UNAVAILABLE = "router unavailable"


@dataclass(frozen=True)
class NormalizationContext:
    """What normalization needs besides the record itself.

    Parameters
    ----------
    district : District
        Geography used for the cell and the jurisdiction chain.
    key : bytes
        Pseudonymization key (from configuration, never from code).
    max_future_skew_s : int
        How far an event time may lie after its report time, and a report
        time after the processing clock, before it is refused.
    max_past_age_days : int
        How far an event time may lie before the processing clock before it
        is refused (a clock at 1900 or at epoch zero is not an event time).
    limits : ContractLimits
        Size limits of a raw record and of what is written for it.
    hotline_router : callable, optional
        A hotline message's text → its routing (``model_version``, ``label``,
        ``probability``, ``category``, ``department``, ``flagged``,
        ``flag_reason``; :class:`pipelines.io.platform_router.PlatformRouter`).
        With it every hotline event carries its routing in
        ``attributes.routing``, and a hotline record may leave its category
        out: the router's fills it (``routing.filled_category``).
    """

    district: District
    key: bytes
    max_future_skew_s: int = 3600
    max_past_age_days: int = 3650
    limits: ContractLimits = field(default_factory=ContractLimits)
    hotline_router: Callable[[object], dict] | None = None


def normalize_event(
    obj: dict, ctx: NormalizationContext, now_ms: int, expected_source: str | None = None
) -> dict:
    """Validate a parsed raw envelope and return its normalized record.

    Parameters
    ----------
    obj : dict
        A parsed raw envelope (see :func:`features.raw_envelope.parse_raw`).
    ctx : NormalizationContext
        District, key and tolerances.
    now_ms : int
        The processing clock, epoch milliseconds.
    expected_source : str, optional
        The channel of the topic the record came from; a record claiming
        another source is refused.

    Raises
    ------
    ContractViolation
        With the reason code and a message naming the bad value.
    """
    version = require_field(obj, "schema_version", int)
    if version != CONTRACT_VERSION:
        raise ContractViolation(
            "unsupported_version",
            f"schema_version={version} is not supported; allowed: {CONTRACT_VERSION}",
        )
    event_id = require_field(obj, "event_id", str).strip()
    if not event_id or len(event_id) > 128:
        raise ContractViolation("bad_value", f"event_id={event_id!r:.40} must be 1-128 characters")
    source = require_field(obj, "source", str)
    if source not in SOURCES:
        raise ContractViolation(
            "bad_value", f"source={source!r} is not one of: {', '.join(SOURCES)}"
        )
    if expected_source is not None and source != expected_source:
        raise ContractViolation(
            "source_mismatch",
            f"source={source!r} arrived on the {expected_source!r} channel's topic",
        )
    # A record without a category is read by the router now, to fill it;
    # one with a category only once it is valid (no cost on dead letters).
    filled = obj.get("category") is None
    routing = _hotline_routing(obj, source, ctx) if filled else None
    if routing is not None:
        if routing["category"] is None:
            why = (
                f"the router failed ({routing['flag_reason']})"
                if str(routing.get("flag_reason")).startswith(ROUTER_UNAVAILABLE)
                else "attributes.text has no words to route it by"
            )
            raise ContractViolation("missing_field", f"category is missing and {why}")
        category = routing["category"]
    else:
        category = require_field(obj, "category", str)
    if category not in CATEGORIES_BY_SOURCE[source]:
        known = "known to another channel" if category in CATEGORIES else "not in the taxonomy"
        raise ContractViolation(
            "unknown_category",
            f"category={category!r} is {known}; allowed for {source}: "
            + ", ".join(sorted(CATEGORIES_BY_SOURCE[source])),
        )

    event_time = parse_timestamp(require_field(obj, "event_time", str), "event_time")
    report_time = parse_timestamp(require_field(obj, "report_time", str), "report_time")
    skew = timedelta(seconds=ctx.max_future_skew_s)
    if event_time > report_time + skew:
        raise ContractViolation(
            "future_timestamp",
            f"event_time={obj['event_time']} is after report_time={obj['report_time']} "
            f"by more than {ctx.max_future_skew_s}s",
        )
    oldest_ms = now_ms - ctx.max_past_age_days * 86_400_000
    if epoch_ms(event_time) < oldest_ms:
        raise ContractViolation(
            "past_timestamp",
            f"event_time={obj['event_time']} is more than {ctx.max_past_age_days} days "
            "before the processing clock",
        )
    report_ms = epoch_ms(report_time)
    if report_ms > now_ms + ctx.max_future_skew_s * 1000:
        raise ContractViolation(
            "future_timestamp",
            f"report_time={obj['report_time']} is more than {ctx.max_future_skew_s}s "
            "ahead of the processing clock",
        )

    location = require_field(obj, "location", dict)
    lon = require_field(location, "lon", (int, float), "location.")
    lat = require_field(location, "lat", (int, float), "location.")
    crs = require_field(location, "crs", str, "location.")
    if crs not in CRS:
        raise ContractViolation(
            "bad_value", f"location.crs={crs!r} is not one of: {', '.join(CRS)}"
        )
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ContractViolation("bad_value", f"location ({lon}, {lat}) is not finite")
    try:
        wgs_lon, wgs_lat = to_wgs84(float(lon), float(lat), crs)
    except ValueError as exc:
        raise ContractViolation("bad_value", f"location: {exc}") from None
    jurisdiction = ctx.district.locate(wgs_lon, wgs_lat)
    if jurisdiction is None:
        raise ContractViolation(
            "outside_district",
            f"location ({lon}, {lat}) {crs} lies outside {ctx.district.name} ({ctx.district.code})",
        )
    cell_id = ctx.district.grid.cell_of(wgs_lon, wgs_lat)

    persons = [
        pseudonymize_person(p, i, ctx.key) for i, p in enumerate(optional_list(obj, "persons"))
    ]
    vehicles = [
        pseudonymize_vehicle(v, i, ctx.key) for i, v in enumerate(optional_list(obj, "vehicles"))
    ]
    attributes = channel_attributes(obj, source, ctx.key)
    if not filled:
        routing = _hotline_routing(obj, source, ctx)
    if routing is not None:
        attributes["routing"] = {**routing, "filled_category": filled}

    local_event_time = event_time.astimezone(DISTRICT_TZ)
    return {
        "schema_version": CONTRACT_VERSION,
        "event_id": event_token(event_id, ctx.key),
        "source": source,
        "source_label": SOURCE_LABELS[source],
        "category": category,
        "category_label": CATEGORIES[category],
        "category_group": category_group(category),
        "event_time": local_event_time.isoformat(),
        "event_time_ms": epoch_ms(event_time),
        "report_time_ms": report_ms,
        "event_date": local_event_time.date().isoformat(),
        "lon": round(wgs_lon, 7),
        "lat": round(wgs_lat, 7),
        "crs": "WGS84",
        "reported_crs": crs,
        "cell_id": cell_id,
        "district_code": jurisdiction.district_code,
        "town_code": jurisdiction.town_code,
        "town_name": jurisdiction.town_name,
        "village_code": jurisdiction.village_code,
        "village_name": jurisdiction.village_name,
        "persons": persons,
        "vehicles": vehicles,
        "attributes": attributes,
    }


def _hotline_routing(obj: dict, source: str, ctx: NormalizationContext) -> dict | None:
    """The router's reading of a hotline record's text; None for other channels or without a router."""
    if source != "hotline" or ctx.hotline_router is None:
        return None
    attributes = obj.get("attributes")
    text = attributes.get("text") if isinstance(attributes, dict) else None
    try:
        return ctx.hotline_router(text if isinstance(text, str) else "")
    except Exception as exc:  # noqa: BLE001 - the router's failure is not the record's
        # The event keeps its own category and says why it was not routed.
        return {
            "model_version": None,
            "label": None,
            "probability": None,
            "category": None,
            "department": None,
            "flagged": True,
            "flag_reason": f"{ROUTER_UNAVAILABLE}: {type(exc).__name__}: {str(exc)[:200]}",
        }
