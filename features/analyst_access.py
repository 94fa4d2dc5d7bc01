"""What each center's analysts may read in Superset, derived from the jurisdiction policy.

One Superset role per center of the policy. A center that sees every row
reads every dataset, unfiltered, and may use SQL Lab. Any other center reads
only the datasets whose rows carry the columns its scope is written on
(``town_code`` for whole towns, ``village_code`` for single villages), each
under one row-level-security clause: the policy's own
:meth:`~features.jurisdiction_policy.JurisdictionPolicy.row_filter`. A
dataset that cannot be cut to a center's scope (a town-level aggregate for a
village station, or the person-level relation graph) is not granted at all:
what cannot be filtered is not shown.

Examples
--------
>>> from features.cell_grid import CellGrid
>>> from features.district import District, Town, Village
>>> from features.jurisdiction_policy import policy_from_mapping, policy_listing
>>> towns = (Town("110118001", "鼓楼街道", "街道", 116.8, 40.4),)
>>> villages = (Village("110118001001", "阳光社区", "110118001", 116.8, 40.4, "社区"),)
>>> district = District("110118", "密云区", towns, villages, (), CellGrid(116.5, 40.1, 1000), 9000)
>>> policy = policy_from_mapping(policy_listing(district), district)
>>> datasets = {"counts": {"day", "town_code", "events"},
...             "alerts": {"town_code", "village_code", "observed"},
...             "graph": {"src", "dst"}}
>>> [(r.name, r.datasets, r.clause) for r in analyst_roles(policy, datasets)]
... # doctest: +NORMALIZE_WHITESPACE
[('zz_center_110118', ('alerts', 'counts', 'graph'), None),
 ('zz_center_110118001', ('alerts', 'counts'), "town_code IN ('110118001')"),
 ('zz_center_110118001001', ('alerts',), "village_code IN ('110118001001')")]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from features.jurisdiction_policy import Center, JurisdictionPolicy

__all__ = ["ROLE_PREFIX", "AnalystRole", "analyst_roles", "role_name", "scope_columns"]

#: Every role this module names starts so; provisioning owns exactly these.
ROLE_PREFIX = "zz_center_"


@dataclass(frozen=True)
class AnalystRole:
    """One center's Superset role: the datasets it reads and the rows it sees of them."""

    name: str
    center_id: str
    center_name: str
    level: str
    #: Dataset keys (as given to :func:`analyst_roles`), sorted.
    datasets: tuple[str, ...]
    #: The row-level-security clause, or None for a center that sees every row.
    clause: str | None
    sql_lab: bool


def role_name(center_id: str) -> str:
    """The Superset role of center ``center_id``."""
    return f"{ROLE_PREFIX}{center_id}"


def scope_columns(center: Center) -> frozenset[str]:
    """The columns a dataset needs for the center's clause to apply to it."""
    if center.sees_all:
        return frozenset()
    return frozenset(
        column
        for column, codes in (("town_code", center.towns), ("village_code", center.villages))
        if codes
    )


def analyst_roles(
    policy: JurisdictionPolicy, datasets: Mapping[str, Iterable[str]]
) -> list[AnalystRole]:
    """One role per center, in the policy's order; ``datasets`` maps a key to its columns."""
    columns = {key: frozenset(cols) for key, cols in datasets.items()}
    roles = []
    for center in policy.centers.values():
        needed = scope_columns(center)
        readable = tuple(sorted(key for key, cols in columns.items() if needed <= cols))
        roles.append(
            AnalystRole(
                name=role_name(center.id),
                center_id=center.id,
                center_name=center.name,
                level=center.level,
                datasets=readable,
                clause=policy.row_filter(center.id),
                sql_lab=center.sees_all,
            )
        )
    return roles
