"""The district and the pseudonymization keys, built from what the settings name.

Settings only read files; this module turns what they read into domain
objects (:class:`features.geography.District`, the
:class:`features.key_chain.KeyChain`), so that the settings module stays a
leaf that imports nothing of the domain.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from features.alert_routing import RoutingRules, routing_rules
from features.geography import District, build_district
from features.hotline_classes import hotline_classes
from features.incident_kinds import incident_fusion_rules
from features.jurisdiction_policy import (
    JurisdictionPolicy,
    PolicyError,
    policy_from_mapping,
    policy_listing,
)
from features.key_chain import KeyChain
from features.reply_units import ReplyUnit, reply_units
from features.work_orders import WorkOrderRules, work_order_rules
from pipelines.errors import SettingsError
from pipelines.io.key_store import key_store
from pipelines.settings import Settings

__all__ = [
    "load_district",
    "load_hotline_classes",
    "load_incident_fusion",
    "load_reply_units",
    "load_jurisdiction_policy",
    "load_routing_rules",
    "load_work_order_rules",
    "pseudonym_key",
    "write_jurisdiction_policy",
]


def load_district(settings: Settings) -> District:
    """The district the configuration declares, with its towns, villages and cells."""
    d = settings.section("district")
    return build_district(
        settings.town_rows(),
        code=d["code"],
        name=d["name"],
        seed=int(d["seed"]),
        villages_per_town=int(d["villages_per_town"]),
        cell_size_m=float(d["cell_size_m"]),
        origin_lon=float(d["origin_lon"]),
        origin_lat=float(d["origin_lat"]),
        max_village_distance_m=float(d["max_village_distance_m"]),
    )


def load_hotline_classes(settings: Settings) -> dict[str, str]:
    """``{router class: hotline category}`` from ``hotline_routing.classes_file``, checked."""
    return dict(_classes_file(settings, hotline_classes))


def load_reply_units(settings: Settings) -> tuple[ReplyUnit, ...]:
    """The units replies name, from ``hotline_routing.classes_file``, checked against its classes."""
    return _classes_file(settings, lambda m: reply_units(m, set(hotline_classes(m))))


def load_incident_fusion(settings: Settings) -> dict:
    """``incident_fusion.file``: the incident kinds (each with a grid category), the bounds, the confidence."""
    path = settings.root / settings.section("incident_fusion", ["file"])["file"]
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"incident_fusion.file {path} does not exist") from None
    try:
        return incident_fusion_rules(raw)
    except ValueError as exc:
        raise SettingsError(f"{path}: {exc}") from None


def _classes_file(settings: Settings, parse):
    path = settings.root / settings.section("hotline_routing", ["classes_file"])["classes_file"]
    try:
        return parse(yaml.safe_load(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise SettingsError(f"hotline_routing.classes_file {path} does not exist") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise SettingsError(f"{path}: {exc}") from None


def pseudonym_key(settings: Settings, create: bool = False) -> KeyChain:
    """The keys that pseudonymize personal data, every version, oldest first.

    Tokens made with it carry its current version. With ``create``, an
    empty key store gets a random key of version 1 (see
    :class:`pipelines.io.key_store.KeyStore`); keys of fewer than 32 random
    bytes, from the files or the environment, are refused.
    """
    return key_store(settings).chain(create=create)


def load_jurisdiction_policy(
    settings: Settings, district: District | None = None
) -> JurisdictionPolicy:
    """The jurisdiction policy file, checked against the configured district."""
    path = settings.jurisdiction_policy_file
    try:
        mapping = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(
            f"jurisdiction.policy_file {path} does not exist; `zongzhi jurisdictions write` "
            "lists the district's centers into it"
        ) from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path} is not valid YAML: {exc}") from None
    try:
        return policy_from_mapping(mapping, district or load_district(settings))
    except PolicyError as exc:
        raise SettingsError(f"{path}: {exc}") from None


_POLICY_HEADER = """\
# The jurisdiction policy: every governance center of the district and what
# it may see (features/jurisdiction_policy.py). The alert service's access
# rules and Superset's roles and row-level security are both derived from
# this file. Written by `zongzhi jurisdictions write` from the district
# (district.towns_file and its villages), then edited by hand: names, and
# wider scopes (sees: all, or sees: {towns: [...], villages: [...]}).
# `zongzhi jurisdictions check` checks it against the district.
"""


def write_jurisdiction_policy(settings: Settings, *, force: bool = False) -> Path:
    """List every center of the configured district into the policy file; return its path.

    An existing file is kept unless ``force``: it may hold edits.
    """
    path = settings.jurisdiction_policy_file
    if path.exists() and not force:
        raise SettingsError(f"{path} exists; --force replaces it (and any edits in it)")
    listing = policy_listing(load_district(settings))
    text = yaml.safe_dump(
        listing, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100
    )
    path.write_text(_POLICY_HEADER + text, encoding="utf-8")
    return path


def load_work_order_rules(settings: Settings) -> WorkOrderRules:
    """``alert_service.work_orders``, checked against ``alert_service.departments``."""
    section = settings.section("alert_service")
    departments = section["departments"]
    names = tuple(str(d) for d in departments["resident"] + departments["on_call"])
    try:
        return work_order_rules(section["work_orders"], names)
    except ValueError as exc:
        raise SettingsError(f"alert_service.work_orders: {exc}") from None


def load_routing_rules(settings: Settings) -> RoutingRules:
    """``jurisdiction.routing``, with a rule for every severity the hotspot detector gives."""
    try:
        rules = routing_rules(settings.section("jurisdiction")["routing"])
    except ValueError as exc:
        raise SettingsError(f"jurisdiction.routing: {exc}") from None
    severities = [
        str(name) for _, name in settings.section("hotspot")["severity_by_recurrence_days"]
    ]
    missing = [s for s in severities if s not in rules.levels_up]
    if missing:
        raise SettingsError(
            f"jurisdiction.routing has no rule for severity {missing[0]!r}; the detector gives "
            f"{', '.join(severities)} (hotspot.severity_by_recurrence_days)"
        )
    return rules
