"""Superset serves the relation-graph dashboard over the nightly graph job's tables.

A small lake with planted rings is written and the real graph job runs for
the second-to-last day and then for the last, so that tonight's tables hold
new links since yesterday. A few watch-list alerts (a watched vehicle read at
a checkpoint near a sensitive place) are filed in ``serving.watch_alerts`` the
way the alert store files them. Superset is brought up and the committed
assets provisioned through the infra scripts (twice: the second run must
change nothing); the dashboard's charts are then read back through the REST
API, from their saved query contexts, and compared with the serving tables
read directly from PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections import Counter

import pandas as pd
import psycopg2
import psycopg2.extras
import pytest

from models.watch_list import WatchList, build_watch_list, watch_alert
from pipelines.harness.superset_api import SupersetClient
from pipelines.harness.superset_provision import provision_superset
from pipelines.io.watch_list_store import watch_config
from pipelines.streaming.alert_store import WATCH_COLUMNS, watch_read_row, watch_row
from pipelines.streaming.watch_alerts import district_checkpoints

from .superset_browser import CHROMIUM, log_in, open_dashboard, screenshot

pytestmark = pytest.mark.integration

SLUG = "zongzhi-graph"
TITLE = "关系网络研判 (密云区)"
CHART_KEY_ENTITIES, CHART_NETWORK = "重点人员与车辆", "关系网络图"
CHART_COMPANIONS, CHART_COMMUNITIES, CHART_NEW_LINKS = "同行车辆", "团伙社群", "昨日以来新增关联"
CHART_WATCH_ALERTS = "布控预警"
CHARTS = {
    CHART_KEY_ENTITIES,
    CHART_NETWORK,
    CHART_COMPANIONS,
    CHART_COMMUNITIES,
    CHART_NEW_LINKS,
    CHART_WATCH_ALERTS,
}
# The nightly graph's tables, and every table the dashboard has a dataset over.
TABLES = (
    "graph_key_entities",
    "graph_communities",
    "graph_companions",
    "graph_network_edges",
    "graph_new_links",
)
DATASETS = (*TABLES, "watch_alerts")

# The labels the charts should show, written out here rather than read from
# the assets: node kinds by node-id prefix, link types and reasons by code.
KIND_LABELS = {"person": "人员", "vehicle": "车辆", "incident": "事件"}
TYPE_LABELS = {
    "involved_in": "涉事",
    "reported_by": "报警人",
    "occurred_at": "发生地",
    "seen_at": "卡口过车",
    "co_present": "同时同地",
}
REASON_LABELS = {"observed": "当晚新发生", "resolved": "实体归并后新增"}

# Watch-list alerts, at Beijing wall-clock times: the key person's vehicle
# read twice near a school within one slot (one alert, two reads), its
# companion read once under a confusable misread near the reservoir, and the
# key person's vehicle read there earlier, before the store counted its reads.
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
WATCH_AS_OF = "2025-06-01"
WATCH_READS = [
    # alert key, vehicle plate read, folded plate read, place kind, Beijing time
    ("school", "zzt-v1", "zzt-f1", "school", dt.datetime(2025, 6, 2, 10, 0, 5, tzinfo=SHANGHAI)),
    ("school", "zzt-v1", "zzt-f1", "school", dt.datetime(2025, 6, 2, 10, 4, 40, tzinfo=SHANGHAI)),
    (
        "shore",
        "zzt-v2x",
        "zzt-f2",
        "reservoir_shore",
        dt.datetime(2025, 6, 2, 11, 20, 0, tzinfo=SHANGHAI),
    ),
    (
        "uncounted",
        "zzt-v1",
        "zzt-f1",
        "reservoir_shore",
        dt.datetime(2025, 6, 2, 9, 15, 30, tzinfo=SHANGHAI),
    ),
]
WATCH_COUNTED = ("school", "shore")
WATCH_CHART_COLUMNS = [
    "event_time_local",
    "status_label",
    "town_name",
    "site_name",
    "place_kind_label",
    "place_name",
    "distance_m",
    "reason_label",
    "detail",
    "match_label",
    "reads",
]


def _bash(settings, *args: str, timeout: int) -> None:
    proc = subprocess.run(
        ["bash", *args], cwd=settings.root, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, (
        f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    )


def _pg_rows(settings, sql: str) -> list[dict]:
    """Rows of ``sql``; ``{schema}`` in it is the serving schema."""
    with psycopg2.connect(settings.pg_dsn()) as conn:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(sql.format(schema=settings.pg["schema"]))
            rows = [dict(r) for r in cur.fetchall()]
    conn.close()
    return rows


def _epoch_ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


def _state(api: SupersetClient) -> dict:
    """What provisioning controls: objects' ids, layout, chart definitions, datasets."""
    dashboard = api.dashboard_by_slug(SLUG)
    charts = {}
    for chart in api.dashboard_charts(dashboard["id"]):
        detail = api.get(f"/api/v1/chart/{chart['id']}")["result"]
        charts[chart["slice_name"]] = {
            k: detail[k]
            for k in ("id", "uuid", "viz_type", "datasource_id", "params", "query_context")
        }
    datasets = []
    for table_filter in (
        "(col:table_name,opr:sw,value:graph_)",
        "(col:table_name,opr:eq,value:watch_alerts)",
    ):
        datasets += api.get(
            "/api/v1/dataset/",
            q=f"(filters:!({table_filter}),columns:!(id,table_name,schema,uuid),page_size:100)",
        )["result"]
    return {
        "dashboard": {
            k: dashboard[k]
            for k in ("id", "uuid", "dashboard_title", "position_json", "json_metadata")
        },
        "charts": charts,
        "datasets": sorted((d["table_name"], d["schema"], d["id"], d["uuid"]) for d in datasets),
    }


@pytest.fixture(scope="module")
def night(graph_nights):
    return graph_nights["report"]


@pytest.fixture(scope="module")
def watched(settings) -> dict:
    """Watch-list alerts filed as the alert store files them; their alert dicts by key."""
    # A one-person watch list: the person's vehicle zzt-v1 and its companion zzt-v2.
    watch = WatchList(
        build_watch_list(
            pd.Series({"person:zzt-p1": "嫌疑人涉事 3 次"}),
            pd.DataFrame({"src": ["person:zzt-p1"], "dst": ["vehicle:zzt-v1"], "weight": [3]}),
            pd.DataFrame(
                {
                    "vehicle_a": ["vehicle:zzt-v1"],
                    "vehicle_b": ["vehicle:zzt-v2"],
                    "companion": [True],
                }
            ),
            pd.DataFrame(
                {
                    "plate_hash": ["zzt-v1", "zzt-v2"],
                    "vehicle_id": ["zzt-v1", "zzt-v2"],
                    "plate_fold_hash": ["zzt-f1", "zzt-f2"],
                }
            ),
            min_shared_incidents=2,
            as_of=WATCH_AS_OF,
        )
    )
    # The district's first sensitive checkpoint of each kind, as the stream finds them.
    checkpoints = {}
    for _, checkpoint in sorted(district_checkpoints(settings).items()):
        checkpoints.setdefault(checkpoint.place_kind, checkpoint)
    slot_minutes = watch_config(settings)["alert_slot_minutes"]
    reads = {}
    for n, (key, plate, fold, kind, when) in enumerate(WATCH_READS):
        entry, how = watch.match(plate, fold)
        reads.setdefault(key, []).append(
            watch_alert(
                entry,
                how,
                checkpoints[kind],
                event_id=f"zzt-read-{n}",
                event_time_ms=_epoch_ms(when),
                plate_hash=plate,
                emitted_at_ms=_epoch_ms(when) + 1500,
                slot_minutes=slot_minutes,
            )
        )
    alerts = {key: found[-1] for key, found in reads.items()}
    assert len({a["alert_id"] for a in alerts.values()}) == len(alerts)
    assert {a["alert_id"] for a in reads["school"]} == {alerts["school"]["alert_id"]}
    schema = settings.pg["schema"]
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(f"TRUNCATE {schema}.watch_alerts, {schema}.watch_alert_reads")
        psycopg2.extras.execute_values(
            cur,
            f"INSERT INTO {schema}.watch_alerts ({', '.join(WATCH_COLUMNS)}) VALUES %s",
            [watch_row(a) for a in alerts.values()],
        )
        psycopg2.extras.execute_values(
            cur,
            f"INSERT INTO {schema}.watch_alert_reads (alert_id, event_id, event_time,"
            " plate_hash, match, emitted_at) VALUES %s",
            [watch_read_row(a) for key in WATCH_COUNTED for a in reads[key]],
        )
        # The store's follow-up count, for the alerts whose reads it has counted.
        cur.execute(
            f"UPDATE {schema}.watch_alerts AS w SET reads = c.n, first_event_time = c.first"
            f" FROM (SELECT alert_id, count(*) AS n, min(event_time) AS first"
            f" FROM {schema}.watch_alert_reads GROUP BY alert_id) AS c"
            f" WHERE w.alert_id = c.alert_id"
        )
    conn.close()
    return alerts


@pytest.fixture(scope="module")
def stack(settings, night):
    # A cold machine builds Superset's venv here: allow for the download.
    _bash(settings, "infra/superset.sh", "start", timeout=1800)
    provision_superset(settings)
    api = SupersetClient.from_settings(settings)
    first = _state(api)
    provision_superset(settings)
    return {"api": api, "first": first, "second": _state(api)}


@pytest.fixture(scope="module")
def api(stack) -> SupersetClient:
    return stack["api"]


def _chart_rows(api: SupersetClient, name: str) -> list[dict]:
    charts = {c["slice_name"]: c["id"] for c in api.dashboard_charts(SLUG)}
    return api.chart_data(charts[name], force=True)


def test_serving_tables_hold_tonights_graph(settings, night):
    # Guards the comparisons below: they read tonight's tables, not another run's.
    for table in TABLES:
        rows = _pg_rows(settings, f"SELECT DISTINCT as_of FROM {{schema}}.{table}")
        assert [r["as_of"] for r in rows] == [night["as_of"]], table


def test_dashboard_has_chinese_title_and_six_charts(api):
    dashboard = api.dashboard_by_slug(SLUG)
    assert dashboard["dashboard_title"] == TITLE
    charts = [c["slice_name"] for c in api.dashboard_charts(dashboard["id"])]
    assert sorted(charts) == sorted(CHARTS)


def test_second_provision_changes_nothing(settings, stack, api):
    assert stack["second"] == stack["first"]
    found = api.get("/api/v1/dashboard/", q=f"(filters:!((col:slug,opr:eq,value:'{SLUG}')))")
    assert found["count"] == 1
    schema = settings.pg["schema"]
    assert [(table, s) for table, s, _, _ in stack["second"]["datasets"]] == [
        (table, schema) for table in sorted(DATASETS)
    ]
    network = stack["second"]["charts"][CHART_NETWORK]
    assert network["viz_type"] == "graph_chart"


def test_companions_chart_returns_exactly_the_companion_pairs(settings, night, api):
    rows = _chart_rows(api, CHART_COMPANIONS)
    expected = _pg_rows(
        settings,
        "SELECT vehicle_a, vehicle_b, co_occurrences, days, places,"
        " expected, p_value, lift FROM {schema}.graph_companions"
        " WHERE companion",
    )
    assert len(rows) == len(expected) == night["companion_pairs"]
    assert night["companion_pairs"] < night["co_occurring_vehicle_pairs"]  # the filter filters
    key = ("vehicle_a", "vehicle_b")
    by_pair = {tuple(r[k] for k in key): r for r in expected}
    assert {tuple(r[k] for k in key) for r in rows} == set(by_pair)
    for row in rows:
        want = by_pair[tuple(row[k] for k in key)]
        assert list(row) == list(want)
        for column in ("co_occurrences", "days", "places"):
            assert row[column] == want[column], column
        for column in ("expected", "p_value", "lift"):
            assert row[column] == pytest.approx(want[column], rel=1e-12), column
    assert [r["p_value"] for r in rows] == sorted(r["p_value"] for r in rows)


def test_network_chart_returns_the_edges_with_node_kinds(settings, api):
    rows = _chart_rows(api, CHART_NETWORK)
    expected = {
        (r["src"], r["dst"]): r["weight"]
        for r in _pg_rows(
            settings,
            "SELECT src, dst, sum(weight)::bigint AS weight FROM {schema}.graph_network_edges"
            " GROUP BY src, dst",
        )
    }
    assert len(rows) == len(expected)
    assert {(r["src"], r["dst"]): r["weight_sum"] for r in rows} == expected
    for row in rows:
        assert row["src_kind"] == KIND_LABELS[row["src"].split(":", 1)[0]]
        assert row["dst_kind"] == KIND_LABELS[row["dst"].split(":", 1)[0]]
    # Every edge starts at a key entity; both kinds of key entity and incidents appear.
    keys = {
        r["node_id"] for r in _pg_rows(settings, "SELECT node_id FROM {schema}.graph_key_entities")
    }
    assert {r["src"] for r in rows} <= keys
    assert {r["src_kind"] for r in rows} == {"人员", "车辆"}
    assert "事件" in {r["dst_kind"] for r in rows}
    # The order the graph chart's own query asks for (what the dashboard shows).
    assert [(r["src"], r["dst"]) for r in rows] == sorted((r["src"], r["dst"]) for r in rows)


def test_key_entities_table_lists_by_pagerank_with_reasons(settings, api):
    rows = _chart_rows(api, CHART_KEY_ENTITIES)
    expected = _pg_rows(
        settings,
        "SELECT kind, kind_label, node_id, reasons, pagerank, degree,"
        " community, companions"
        " FROM {schema}.graph_key_entities",
    )
    assert len(rows) == len(expected)
    by_node = {r["node_id"]: r for r in expected}
    assert {r["node_id"] for r in rows} == set(by_node)
    for row in rows:
        want = by_node[row["node_id"]]
        assert row["kind_label"] == {"person": "人员", "vehicle": "车辆"}[want["kind"]]
        assert (row["reasons"], row["degree"], row["community"], row["companions"]) == (
            want["reasons"],
            want["degree"],
            want["community"],
            want["companions"],
        )
    pageranks = [r["pagerank"] for r in rows]
    assert pageranks == sorted(pageranks, reverse=True)
    assert pageranks[0] == pytest.approx(max(r["pagerank"] for r in expected), rel=1e-12)
    # Vehicles with companion ties carry them in their reasons.
    tied = [r for r in rows if r["companions"]]
    assert tied and all(f"同行车辆 {r['companions']} 对" in r["reasons"] for r in tied)


def test_communities_table_keeps_groups_of_two_or_more(settings, api):
    rows = _chart_rows(api, CHART_COMMUNITIES)
    expected = _pg_rows(
        settings,
        "SELECT community, members, persons, vehicles, incidents,"
        " top_member FROM {schema}.graph_communities"
        " WHERE persons + vehicles >= 2"
        " ORDER BY members DESC, community ASC LIMIT 1000",
    )
    assert rows == expected
    assert all(r["persons"] + r["vehicles"] >= 2 for r in rows)


def test_new_links_chart_counts_links_per_type_and_reason(settings, night, api):
    rows = _chart_rows(api, CHART_NEW_LINKS)
    shown = {
        (row["type_label"], reason): count
        for row in rows
        for reason, count in row.items()
        if reason != "type_label" and count is not None
    }
    expected = {
        (TYPE_LABELS[r["type"]], REASON_LABELS[r["reason"]]): r["n"]
        for r in _pg_rows(
            settings,
            "SELECT type, reason, count(*) AS n FROM {schema}.graph_new_links"
            " GROUP BY type, reason",
        )
    }
    assert shown == expected
    assert sum(shown.values()) == night["new_links"]
    by_reason = Counter()
    for (_, reason), count in shown.items():
        by_reason[reason] += count
    assert by_reason == Counter(
        {REASON_LABELS[reason]: count for reason, count in night["new_links_by_reason"].items()}
    )
    assert set(by_reason) == set(REASON_LABELS.values())  # both reasons occur tonight


def test_watch_alerts_table_lists_the_newest_reads_first(settings, watched, api):
    rows = _chart_rows(api, CHART_WATCH_ALERTS)
    expected = _pg_rows(
        settings,
        "SELECT event_time AT TIME ZONE 'Asia/Shanghai' AS"
        " event_time_local, status_label, town_name, site_name,"
        " place_kind_label, place_name, distance_m, reason_label, detail,"
        " match_label, reads FROM {schema}.watch_alerts"
        " ORDER BY event_time DESC LIMIT 100",
    )
    for row in expected:
        row["event_time_local"] = _epoch_ms(row["event_time_local"].replace(tzinfo=dt.UTC))
    assert len(rows) == len(expected) == len(watched)
    assert [list(r) for r in rows] == [WATCH_CHART_COLUMNS] * len(rows)
    for row, want in zip(rows, expected):
        assert {k: v for k, v in row.items() if k != "distance_m"} == {
            k: v for k, v in want.items() if k != "distance_m"
        }
        assert row["distance_m"] == pytest.approx(want["distance_m"], rel=1e-12)
    # What duty staff read, newest read first, at Beijing time: the companion's
    # misread near the reservoir, the key person's vehicle near the school (its
    # latest of two reads in the slot), then the read whose count is not in yet.
    # Superset encodes a naive time as its wall-clock reading taken as UTC.
    order = ("shore", "school", "uncounted")
    assert [r["event_time_local"] for r in rows] == [
        _epoch_ms(dt.datetime(2025, 6, 2, h, m, s, tzinfo=dt.UTC))
        for h, m, s in ((11, 20, 0), (10, 4, 40), (9, 15, 30))
    ]
    assert [r["reads"] for r in rows] == [1, 2, None]
    assert [r["status_label"] for r in rows] == ["新发"] * 3
    assert [r["reason_label"] for r in rows] == [
        "布控车辆同行车辆",
        "重点人员关联车辆",
        "重点人员关联车辆",
    ]
    assert [r["detail"] for r in rows] == [
        "与布控车辆 vehicle:zzt-v1 同行",
        "与 1 名重点人员共同涉事 3 次",
        "与 1 名重点人员共同涉事 3 次",
    ]
    assert [r["match_label"] for r in rows] == [
        "车牌易混字符一致（疑似误识）",
        "车牌一致",
        "车牌一致",
    ]
    assert [r["place_kind_label"] for r in rows] == ["水库岸线", "学校", "水库岸线"]
    for row, key in zip(rows, order):
        alert = watched[key]
        assert (row["town_name"], row["site_name"], row["place_name"]) == (
            alert["town_name"],
            alert["site_name"],
            alert["place_name"],
        )
        assert row["distance_m"] == pytest.approx(alert["distance_m"], rel=1e-12)
        assert 0 < row["distance_m"] <= watch_config(settings)["sensitive_radius_m"]
    # The first read of the school alert is kept beside its latest.
    first = _pg_rows(
        settings, "SELECT alert_id, first_event_time, event_time FROM {schema}.watch_alerts"
    )
    by_id = {r["alert_id"]: r for r in first}
    school = by_id[watched["school"]["alert_id"]]
    assert (school["first_event_time"], school["event_time"]) == (
        WATCH_READS[0][4],
        WATCH_READS[1][4],
    )
    assert by_id[watched["uncounted"]["alert_id"]]["first_event_time"] is None


def test_district_analyst_sees_every_graph_chart_drawn(settings, api, watched):
    """In headless Chromium, the district's analyst sees all six charts drawn, none failing."""
    import json

    from playwright.sync_api import sync_playwright

    username = "analyst-110118"
    passwords = settings.var / "secrets" / "superset_analysts.json"
    password = json.loads(passwords.read_text(encoding="utf-8"))[username]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1400}, locale="zh-CN")
            log_in(page, settings.superset_url, username, password)
            views = open_dashboard(page, settings.superset_url, SLUG, expected_charts=len(CHARTS))
            screenshot(page, "superset_graph_district", settings.root)
        finally:
            browser.close()
    assert {v.name for v in views} == CHARTS
    assert [(v.name, v.text[:80]) for v in views if not v.ok] == []
