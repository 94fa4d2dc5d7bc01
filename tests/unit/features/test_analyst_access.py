"""Superset roles follow the jurisdiction policy: rows by scope, nothing unfilterable."""

from __future__ import annotations

from features.analyst_access import ROLE_PREFIX, analyst_roles, role_name, scope_columns
from features.jurisdiction_policy import Center, JurisdictionPolicy


def _center(cid, level, parent, sees_all=False, towns=(), villages=()):
    return Center(cid, f"中心{cid}", level, parent, sees_all, frozenset(towns), frozenset(villages))


POLICY = JurisdictionPolicy(
    "110118",
    {
        "110118": _center("110118", "district", None, sees_all=True),
        "110118001": _center("110118001", "town", "110118", towns=["110118001"]),
        # A town center that also looks after one village of its neighbour.
        "110118002": _center(
            "110118002", "town", "110118", towns=["110118002"], villages=["110118003004"]
        ),
        "110118001001": _center("110118001001", "village", "110118001", villages=["110118001001"]),
    },
)
DATASETS = {
    "daily_counts": {"day", "town_code", "events"},
    "alerts": {"alert_id", "town_code", "village_code"},
    "graph_edges": {"src", "dst", "weight"},
}


def test_one_role_per_center_in_policy_order():
    roles = analyst_roles(POLICY, DATASETS)
    assert [r.name for r in roles] == [
        "zz_center_110118",
        "zz_center_110118001",
        "zz_center_110118002",
        "zz_center_110118001001",
    ]
    assert all(r.name.startswith(ROLE_PREFIX) for r in roles)
    assert role_name("110118001") == "zz_center_110118001"


def test_district_reads_everything_unfiltered_with_sql_lab():
    district = analyst_roles(POLICY, DATASETS)[0]
    assert district.datasets == ("alerts", "daily_counts", "graph_edges")
    assert district.clause is None
    assert district.sql_lab is True


def test_town_reads_only_datasets_it_can_be_cut_to():
    town = analyst_roles(POLICY, DATASETS)[1]
    assert town.datasets == ("alerts", "daily_counts")
    assert town.clause == "town_code IN ('110118001')"
    assert town.sql_lab is False


def test_mixed_scope_needs_both_columns():
    mixed = analyst_roles(POLICY, DATASETS)[2]
    assert scope_columns(POLICY.center("110118002")) == {"town_code", "village_code"}
    assert mixed.datasets == ("alerts",)
    assert mixed.clause == "town_code IN ('110118002') OR village_code IN ('110118003004')"


def test_village_never_reads_town_aggregates():
    village = analyst_roles(POLICY, DATASETS)[3]
    assert village.datasets == ("alerts",)
    assert village.clause == "village_code IN ('110118001001')"
