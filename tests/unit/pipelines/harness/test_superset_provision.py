"""The access plan derived from the committed assets and the jurisdiction policy."""

from __future__ import annotations

import json
import stat

import pytest

from pipelines.harness import superset_provision
from pipelines.settings import Settings, load_settings

ROOT_SETTINGS = load_settings()
ASSETS = ROOT_SETTINGS.root / "infra" / "superset" / "assets"


@pytest.fixture()
def settings(tmp_path) -> Settings:
    return Settings(raw=ROOT_SETTINGS.raw, root=ROOT_SETTINGS.root, var=tmp_path / "var")


def test_dataset_columns_are_read_from_the_asset_files():
    datasets = superset_provision.dataset_columns(ASSETS)
    tables = {table: cols for table, cols in datasets.values()}
    assert {"town_code", "village_code"} <= tables["alerts"]
    assert "town_code" in tables["daily_counts"] and "village_code" not in tables["daily_counts"]
    assert not {"town_code", "village_code"} & tables["graph_network_edges"]


def test_dashboard_datasets_follow_charts():
    dashboards = {
        slug: uuids for slug, uuids in superset_provision.dashboard_datasets(ASSETS).values()
    }
    datasets = superset_provision.dataset_columns(ASSETS)
    names = {slug: {datasets[u][0] for u in uuids} for slug, uuids in dashboards.items()}
    assert names["zongzhi-overview"] >= {"daily_counts", "alerts", "cell_trends"}
    assert "graph_network_edges" in names["zongzhi-graph"]
    assert names["zongzhi-cases"] >= {"case_work", "case_funnel", "close_timeliness"}
    assert "hot_issues" in names["zongzhi-monthly"]


def test_plan_gives_towns_the_overview_and_only_the_district_the_graph(settings):
    plan = superset_provision.access_plan(settings)
    by_slug = {d["slug"]: set(d["roles"]) for d in plan["dashboards"]}
    assert by_slug["zongzhi-graph"] == {"zz_center_110118"}
    assert {"zz_center_110118", "zz_center_110118001"} <= by_slug["zongzhi-overview"]
    assert "zz_center_110118001001" not in by_slug["zongzhi-overview"]
    # The work orders carry the village too: every center opens the loop's dashboard.
    assert len(by_slug["zongzhi-cases"]) == 141
    roles = {r["name"]: r for r in plan["roles"]}
    assert len(roles) == 141
    assert roles["zz_center_110118"]["clause"] is None
    assert roles["zz_center_110118001"]["clause"] == "town_code IN ('110118001')"


def test_analysts_are_the_district_and_towns_and_keep_their_passwords(settings):
    plan = superset_provision.access_plan(settings)
    analysts = {a["username"]: a for a in plan["analysts"]}
    assert len(analysts) == 21
    assert analysts["analyst-110118"]["roles"] == ["Gamma", "zz_center_110118", "sql_lab"]
    assert analysts["analyst-110118001"]["roles"] == ["Gamma", "zz_center_110118001"]
    path = settings.var / "secrets" / superset_provision.ANALYSTS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = superset_provision.access_plan(settings)
    assert [a["password"] for a in again["analysts"]] == [a["password"] for a in plan["analysts"]]
    assert json.loads(path.read_text())["analyst-110118"] == analysts["analyst-110118"]["password"]
