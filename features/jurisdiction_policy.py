"""The one jurisdiction policy: every governance center and what it may see.

A district has one center (区综治中心), each of its towns one (街道、镇、地区
综治中心) and each village or community a station (村（社区）综治工作站).
One declared file, ``infra/config/jurisdictions.yaml``, lists them all:
each center's id (the code of the jurisdiction it serves), its Chinese
name, its level, the center one level up, and what it may see. The alert
service's access rules and Superset's row-level security are both derived
from it by this module, so that the rules are never written twice.

A center sees a row through the row's jurisdiction chain (``town_code``,
``village_code``): ``sees: all`` every row, ``sees: {towns: [...]}`` the rows
of whole towns, ``sees: {villages: [...]}`` the rows of single villages. A
row whose place could not be resolved (no town) is the district's alone.

Examples
--------
>>> from features.district import District, Town, Village
>>> from features.cell_grid import CellGrid
>>> towns = (Town("110118001", "鼓楼街道", "街道", 116.8, 40.4),)
>>> villages = (Village("110118001001", "阳光社区", "110118001", 116.8, 40.4, "社区"),)
>>> district = District("110118", "密云区", towns, villages, (), CellGrid(116.5, 40.1, 1000), 9000)
>>> policy = policy_from_mapping(policy_listing(district), district)
>>> [c.name for c in policy.centers.values()]
['密云区综治中心', '鼓楼街道综治中心', '阳光社区综治工作站']
>>> policy.may_see("110118001001", "110118001", "110118001001")
True
>>> policy.may_see("110118001001", "110118001", "110118001002")
False
>>> policy.escalation_chain("110118001001")
('110118001001', '110118001', '110118')
>>> policy.row_filter("110118001")
"town_code IN ('110118001')"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "LEVELS",
    "Center",
    "JurisdictionPolicy",
    "PolicyError",
    "policy_from_mapping",
    "policy_listing",
]

#: The levels of centers, top first; each center's parent is one level up.
LEVELS = ("district", "town", "village")
#: The suffix of a center's name after its jurisdiction's in a generated listing.
_NAME_SUFFIX = {"district": "综治中心", "town": "综治中心", "village": "综治工作站"}
_CODE = re.compile(r"[0-9]{6,15}")


class PolicyError(ValueError):
    """The policy file is malformed or does not match the district."""


@dataclass(frozen=True)
class Center:
    """One governance center and the rows it may see."""

    id: str
    name: str
    level: str
    parent: str | None
    sees_all: bool
    towns: frozenset[str]
    villages: frozenset[str]

    def sees(self, town_code: str | None, village_code: str | None) -> bool:
        """Whether this center may see a row of that town and village."""
        if self.sees_all:
            return True
        if town_code is None:
            return False
        return town_code in self.towns or (
            village_code is not None and village_code in self.villages
        )


@dataclass(frozen=True)
class JurisdictionPolicy:
    """The centers of one district, by id, in the order the file lists them."""

    district_code: str
    centers: Mapping[str, Center]

    def center(self, center_id: str) -> Center:
        """The center ``center_id``; a one-line error for an unknown one."""
        try:
            return self.centers[center_id]
        except KeyError:
            raise PolicyError(
                f"center={center_id!r} is not in the jurisdiction policy "
                f"(district {self.district_code}: {len(self.centers)} centers)"
            ) from None

    def may_see(self, center_id: str, town_code: str | None, village_code: str | None) -> bool:
        """Whether ``center_id`` may see a row of that jurisdiction chain."""
        return self.center(center_id).sees(town_code, village_code)

    def may_see_alert(
        self,
        center_id: str,
        town_code: str | None,
        village_code: str | None,
        holder: str | None,
    ) -> bool:
        """Whether ``center_id`` may see and act on an alert of that place held by ``holder``.

        A cluster's place is its latest update's, and it may move as the
        cluster grows, while the center that received it keeps holding it:
        the holder and the centers above it keep the alert, wherever it went.
        """
        if self.may_see(center_id, town_code, village_code):
            return True
        return holder in self.centers and center_id in self.escalation_chain(holder)

    def home_center(self, town_code: str | None, village_code: str | None) -> str:
        """The center a row of that place belongs to: its village's, else its town's, else the district's.

        A place that could not be resolved (no town) goes to the district (未定位).
        """
        for code in (village_code, town_code):
            if code is not None and code in self.centers:
                return code
        return self.district_code

    def escalation_chain(self, center_id: str) -> tuple[str, ...]:
        """``center_id`` and every center above it, up to the district's."""
        chain = [self.center(center_id).id]
        while (parent := self.centers[chain[-1]].parent) is not None:
            chain.append(parent)
        return tuple(chain)

    def row_filter(self, center_id: str) -> str | None:
        """A SQL condition on ``town_code`` and ``village_code`` that keeps the center's rows.

        None for a center that sees every row. Codes are digits (checked on
        load), so they are safe to quote into SQL.
        """
        center = self.center(center_id)
        if center.sees_all:
            return None
        parts = []
        for column, codes in (("town_code", center.towns), ("village_code", center.villages)):
            if codes:
                parts.append(f"{column} IN ({', '.join(repr(c) for c in sorted(codes))})")
        return " OR ".join(parts)

    def alert_filter(self, center_id: str) -> str | None:
        """:meth:`row_filter` for alerts: also those held by the center or a center under it.

        The SQL condition reads ``center_id`` (the holder) beside the place
        columns, as :meth:`may_see_alert` does for one alert.
        """
        places = self.row_filter(center_id)
        if places is None:
            return None
        under = sorted(c for c in self.centers if center_id in self.escalation_chain(c))
        held = f"center_id IN ({', '.join(repr(c) for c in under)})"
        return f"({places}) OR {held}" if places else held


def policy_listing(district) -> dict:
    """A policy that lists every center of ``district``, each seeing its own jurisdiction.

    What the policy file starts from; edit it afterwards (names, wider scopes).
    """

    def entry(unit, level, parent, sees):
        named = {"id": unit.code, "name": unit.name + _NAME_SUFFIX[level], "level": level}
        return named | ({"parent": parent} if parent else {}) | {"sees": sees}

    centers = [entry(district, "district", None, "all")]
    for town in district.towns:
        centers.append(entry(town, "town", district.code, {"towns": [town.code]}))
        centers += [
            entry(village, "village", town.code, {"villages": [village.code]})
            for village in district.villages
            if village.town_code == town.code
        ]
    return {"district": district.code, "centers": centers}


def policy_from_mapping(mapping, district) -> JurisdictionPolicy:
    """Read and check a policy (the parsed YAML file) against ``district``.

    Every town and village of the district has exactly one center of its
    level, whose id is its code and whose parent is the center one level
    up; the district's center sees all; every center sees at least its own
    jurisdiction, and only codes of the district.

    Raises
    ------
    PolicyError
        Naming the center and the value at fault.
    """
    if not isinstance(mapping, Mapping):
        raise PolicyError(f"the policy must be a mapping, got {type(mapping).__name__}")
    if str(mapping.get("district")) != district.code:
        raise PolicyError(
            f"district={mapping.get('district')!r} in the policy, but the configured district "
            f"is {district.code!r}"
        )
    entries = mapping.get("centers")
    if not isinstance(entries, list) or not entries:
        raise PolicyError("centers must be a non-empty list")
    towns = {t.code for t in district.towns}
    villages = {v.code: v.town_code for v in district.villages}
    expected = {district.code: ("district", None)}
    expected |= {code: ("town", district.code) for code in towns}
    expected |= {code: ("village", town) for code, town in villages.items()}
    centers: dict[str, Center] = {}
    for i, entry in enumerate(entries):
        center = _center(entry, i, towns, villages)
        if center.id in centers:
            raise PolicyError(f"center {center.id!r} is listed twice")
        if center.id not in expected:
            raise PolicyError(
                f"center {center.id!r} is no jurisdiction of district {district.code} "
                "(ids are the codes of the district, its towns and its villages)"
            )
        level, parent = expected[center.id]
        if (center.level, center.parent) != (level, parent):
            raise PolicyError(
                f"center {center.id!r} has level={center.level!r}, parent={center.parent!r}; "
                f"its jurisdiction needs level={level!r}, parent={parent!r}"
            )
        if center.level == "district" and not center.sees_all:
            raise PolicyError(f"center {center.id!r}, the district's, must see all")
        if not center.sees(_own_town(center, villages), _own_village(center)):
            raise PolicyError(f"center {center.id!r} does not see its own jurisdiction")
        centers[center.id] = center
    missing = sorted(set(expected) - set(centers))
    if missing:
        raise PolicyError(
            f"{len(missing)} jurisdiction(s) have no center, first {missing[:3]}; "
            "every town and village has one"
        )
    return JurisdictionPolicy(district.code, MappingProxyType(centers))


def _own_town(center: Center, villages: dict[str, str]) -> str | None:
    if center.level == "town":
        return center.id
    return villages.get(center.id) if center.level == "village" else None


def _own_village(center: Center) -> str | None:
    return center.id if center.level == "village" else None


def _center(entry, i: int, towns: set[str], villages: dict[str, str]) -> Center:
    if not isinstance(entry, Mapping):
        raise PolicyError(f"centers[{i}] must be a mapping, got {type(entry).__name__}")
    center_id = str(entry.get("id", ""))
    where = f"centers[{i}] (id={center_id!r})"
    if not _CODE.fullmatch(center_id):
        raise PolicyError(f"{where}: id must be a jurisdiction code of 6 to 15 digits")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PolicyError(f"{where}: name must be a non-empty string, got {name!r}")
    level = entry.get("level")
    if level not in LEVELS:
        raise PolicyError(f"{where}: level={level!r} is not one of: {', '.join(LEVELS)}")
    parent = entry.get("parent")
    parent = None if parent is None else str(parent)
    sees = entry.get("sees")
    if sees == "all":
        return Center(center_id, name.strip(), level, parent, True, frozenset(), frozenset())
    if not isinstance(sees, Mapping) or not set(sees) <= {"towns", "villages"} or not sees:
        raise PolicyError(
            f"{where}: sees={sees!r} must be 'all' or a mapping of towns and/or villages"
        )
    scope = {}
    for key, known in (("towns", towns), ("villages", villages)):
        codes = sees.get(key) or []
        if not isinstance(codes, list):
            raise PolicyError(f"{where}: sees.{key} must be a list of codes, got {codes!r}")
        unknown = [str(c) for c in codes if str(c) not in known]
        if unknown:
            raise PolicyError(
                f"{where}: sees.{key} names {unknown[0]!r}, not one of the district's"
            )
        scope[key] = frozenset(str(c) for c in codes)
    return Center(center_id, name.strip(), level, parent, False, scope["towns"], scope["villages"])
