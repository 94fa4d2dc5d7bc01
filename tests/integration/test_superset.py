"""Superset serves the provisioned dashboard over the serving PostgreSQL.

Brings up PostgreSQL and Superset through the infra scripts, provisions the
committed assets (twice: the second run must change nothing), writes a few
marked rows into ``serving.daily_counts`` and ``serving.alerts`` and reads
them back through Superset's REST API, from the charts' saved query contexts.
The data of every chart holds no personal identifier in clear: run after
test_pipeline.py on the same PostgreSQL, the serving tables then hold that
session's outputs, whose raw stream carried the planted identifiers of
tests/integration/pii_scan.py.
The first run on a machine builds Superset's venv (a few minutes).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import psycopg2
import psycopg2.errors
import pytest

from pipelines.harness.steps import run_step_with_output
from pipelines.harness.superset_api import SupersetClient
from pipelines.harness.superset_cache import query_cache_dir, warm_dashboard
from pipelines.harness.superset_provision import export_superset, provision_superset
from pipelines.settings import load_settings

from .pii_scan import chart_texts, find_in_clear, pattern_matches_in_strings
from .superset_browser import CHROMIUM, log_in, open_dashboard, screenshot

pytestmark = pytest.mark.integration

SETTINGS = load_settings()
ROOT = SETTINGS.root
SCHEMA = SETTINGS.pg["schema"]
SLUG = "zongzhi-overview"
AUDIT_LOG = SETTINGS.var / "log" / "superset-events.jsonl"
TITLE = "综治事件态势 (密云区)"
CHART_TOWNS, CHART_SOURCES, CHART_ALERTS = "各镇街每日事件数", "各渠道事件趋势", "最新预警"
CHART_TREND_CLASSES = "热点趋势分类（近14天）"
CHART_TOTAL = "事件总数"
CHART_TIMELINESS = "办结时效对比（12345参考）"
OVERVIEW_CHARTS = {
    CHART_TOTAL,
    CHART_TOWNS,
    CHART_SOURCES,
    CHART_ALERTS,
    CHART_TREND_CLASSES,
    "各镇街周环比与同比",
    "各类别周环比与同比",
    "各类别每周事件趋势",
}
#: The other dashboards every district analyst opens, with their charts.
DASHBOARDS = {
    "zongzhi-cases": {
        "响应率",
        "解决率",
        "满意率",
        "工单办理漏斗",
        CHART_TIMELINESS,
        "各类别办结用时",
        "各部门办结与超期",
    },
    "zongzhi-monthly": {
        "各镇街本月研判",
        "各类别本月研判",
        "各镇街月度事件趋势",
        "各镇街月度工单三率",
        "热点诉求（近30天）",
    },
    "zongzhi-hotspots": {
        "热点网格地图（趋势类别）",
        "当前热点簇地图",
        "当前热点簇统计",
        CHART_TREND_CLASSES,
    },
}

# Marked test rows: a day long past and alert windows far ahead, so that the
# assertions hold whatever else the serving tables contain.
TEST_TOWN_PREFIX = "ZZTEST"
TEST_ALERT_PREFIX = "zztest-"
DAY1, DAY2 = dt.date(2001, 2, 3), dt.date(2001, 2, 4)
TOWN_A, TOWN_B = "测试镇甲", "测试镇乙"
SOURCE_GRID, SOURCE_HOTLINE = "网格员上报", "12345热线"
DAILY_ROWS = [
    # day, town_code, town_name, category, category_label, source, source_label, events
    (DAY1, "ZZTEST01", TOWN_A, "dispute", "矛盾纠纷", "grid", SOURCE_GRID, 5),
    (DAY1, "ZZTEST01", TOWN_A, "dispute", "矛盾纠纷", "hotline", SOURCE_HOTLINE, 4),
    (DAY1, "ZZTEST01", TOWN_A, "safety", "安全隐患", "grid", SOURCE_GRID, 3),
    (DAY1, "ZZTEST02", TOWN_B, "safety", "安全隐患", "hotline", SOURCE_HOTLINE, 6),
    (DAY2, "ZZTEST01", TOWN_A, "safety", "安全隐患", "grid", SOURCE_GRID, 2),
]
# Two real towns of the policy on a day long past (category zztest marks them):
# what a town analyst's row-level security is checked on.
DAY0 = dt.date(2001, 2, 1)
REAL_TOWN, REAL_TOWN_NAME = "110118001", "鼓楼街道"
OTHER_TOWN = "110118002"
REAL_TOWN_ROWS = [
    (DAY0, REAL_TOWN, REAL_TOWN_NAME, "zztest", "测试类别", "grid", SOURCE_GRID, 7),
    (DAY0, OTHER_TOWN, "果园街道", "zztest", "测试类别", "grid", SOURCE_GRID, 11),
]
DISTRICT_ANALYST, TOWN_ANALYST = "analyst-110118", f"analyst-{REAL_TOWN}"
# Work orders of the supervised loop (duty.cases) on the test alerts, one of
# them in the real town: what 事件闭环与督办 shows.
CASES_SLUG = "zongzhi-cases"
CASES = [
    # case_id, alert_id, town_code, state, accepted late?, satisfaction, closed after hours
    ("zztest-case-1", "zztest-1", TEST_TOWN_PREFIX + "01", "closed", False, 5, 20),
    ("zztest-case-2", "zztest-2", TEST_TOWN_PREFIX + "02", "accepted", True, None, None),
    ("zztest-case-3", "zztest-3", REAL_TOWN, "closed", False, 3, 30),
]
TREND_ROWS = [
    # cell_id, town_name, pattern, pattern_label
    ("ZZTEST-c1", TOWN_A, "intensifying_hot_spot", "加剧热点"),
    ("ZZTEST-c2", TOWN_A, "intensifying_hot_spot", "加剧热点"),
    ("ZZTEST-c3", TOWN_A, "persistent_hot_spot", "持续热点"),
    ("ZZTEST-c4", TOWN_B, "no_pattern", "无模式"),
]
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
ALERT_NEWEST_END = dt.datetime(2099, 1, 1, 10, 30, tzinfo=SHANGHAI)
ALERT_OLDER_END = dt.datetime(2099, 1, 1, 10, 0, tzinfo=SHANGHAI)
ALERTS = [
    # alert_id, window_end, town, village, category_label, observed, expected, p_value, severity
    ("zztest-1", ALERT_OLDER_END, TOWN_A, "测试村一", "矛盾纠纷", 9, 1.25, 3.5e-7, "黄色"),
    ("zztest-2", ALERT_NEWEST_END, TOWN_B, "测试村二", "安全隐患", 14, 0.5, 2.0e-12, "红色"),
]


def _run(*args: str, timeout: int) -> None:
    proc = subprocess.run(
        ["bash", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, (
        f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    )


def _epoch_ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


def _wall_clock(value: dt.datetime) -> dt.datetime:
    """The same wall-clock reading, taken as UTC (how Superset encodes naive times)."""
    return value.astimezone(SHANGHAI).replace(tzinfo=dt.UTC)


def _day_ms(day: dt.date) -> int:
    return _epoch_ms(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC))


def _pg_connect():
    return psycopg2.connect(SETTINGS.pg_dsn())


def _delete_test_rows(conn) -> None:
    schema = SCHEMA
    with conn, conn.cursor() as cur:
        cur.execute(
            f"DELETE FROM {schema}.daily_counts WHERE town_code LIKE %s", (TEST_TOWN_PREFIX + "%",)
        )
        cur.execute(
            f"DELETE FROM {schema}.alerts WHERE alert_id LIKE %s", (TEST_ALERT_PREFIX + "%",)
        )
        cur.execute(
            f"DELETE FROM {schema}.cell_trends WHERE cell_id LIKE %s", (TEST_TOWN_PREFIX + "%",)
        )
        cur.execute(f"DELETE FROM {schema}.daily_counts WHERE category = 'zztest'")
        cur.execute("DELETE FROM duty.cases WHERE case_id LIKE 'zztest-case-%'")
        cur.execute(
            "DELETE FROM duty.alert_assignments WHERE alert_id LIKE %s", (TEST_ALERT_PREFIX + "%",)
        )


def _insert_test_rows(conn) -> None:
    schema = SCHEMA
    with conn, conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {schema}.daily_counts (day, town_code, town_name, category,"
            " category_label, source, source_label, events) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
            DAILY_ROWS + REAL_TOWN_ROWS,
        )
        cur.executemany(
            f"INSERT INTO {schema}.cell_trends (cell_id, town_code, town_name, lon, lat, pattern,"
            " pattern_label, hot_days, cold_days, mk_z, mk_p, latest_gi_z, days, first_day,"
            " last_day) VALUES (%s,%s,%s,116.8,40.4,%s,%s,13,0,2.5,0.01,3.0,14,%s,%s)",
            [
                (cell, TEST_TOWN_PREFIX + "01", town, pattern, label, DAY1, DAY2)
                for cell, town, pattern, label in TREND_ROWS
            ],
        )
        for alert_id, end, town, village, label, observed, expected, p_value, severity in ALERTS:
            cur.execute(
                f"INSERT INTO {schema}.alerts (alert_id, cell_id, category, category_label,"
                " window_start, window_end, observed, expected, p_value, score, severity,"
                " baseline_source, district_code, town_code, town_name, village_code,"
                " village_name, lon, lat, emitted_at, cluster_id, status, status_label,"
                " recurrence_interval_days) VALUES"
                " (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                (
                    alert_id,
                    "c-test",
                    "test",
                    label,
                    end - dt.timedelta(minutes=30),
                    end,
                    observed,
                    expected,
                    p_value,
                    9.9,
                    severity,
                    "fallback",
                    "110118",
                    TEST_TOWN_PREFIX + "01",
                    town,
                    "ZZTESTV",
                    village,
                    116.8,
                    40.4,
                    end,
                    alert_id,
                    "ongoing",
                    "持续",
                    1 / (p_value * 288),
                ),
            )


def _insert_cases(conn) -> None:
    dispatched = dt.datetime(2099, 1, 1, 11, 0, tzinfo=SHANGHAI)
    with conn, conn.cursor() as cur:
        for case_id, alert_id, town, state, late, satisfaction, hours in CASES:
            cur.execute(
                "INSERT INTO duty.alert_assignments (alert_id, kind, severity, town_code,"
                " village_code, home_center, center_id, unlocated, assigned_at)"
                " VALUES (%s, 'hotspot', '黄色', %s, NULL, %s, %s, false, %s)",
                (alert_id, town, town, town, dispatched),
            )
            accepted = dispatched + dt.timedelta(hours=3 if late else 0.5)
            closed = dispatched + dt.timedelta(hours=hours) if hours else None
            cur.execute(
                "INSERT INTO duty.cases (case_id, alert_id, center_id, department, state,"
                " dispatched_by, dispatched_at, updated_at, category, respond_by, due_at,"
                " accepted_at, closed_at, satisfaction, followed_up_at) VALUES"
                " (%s, %s, %s, '城管', %s, 'duty-test', %s, %s, 'test', %s, %s, %s, %s, %s, %s)",
                (
                    case_id,
                    alert_id,
                    town,
                    state,
                    dispatched,
                    dispatched,
                    dispatched + dt.timedelta(hours=2),
                    dispatched + dt.timedelta(hours=24),
                    accepted,
                    closed,
                    satisfaction,
                    closed if satisfaction else None,
                ),
            )


def _dashboard_state(api: SupersetClient) -> tuple[int, dict[str, int]]:
    dashboard_id = api.dashboard_by_slug(SLUG)["id"]
    return dashboard_id, {c["slice_name"]: c["id"] for c in api.dashboard_charts(dashboard_id)}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    _run("infra/postgres.sh", "start", timeout=600)
    # A cold machine builds Superset's venv here: allow for the download.
    _run("infra/superset.sh", "start", timeout=1800)
    exports = tmp_path_factory.mktemp("superset-export")
    provision_superset(SETTINGS)
    api = SupersetClient.from_settings(SETTINGS)
    first = _dashboard_state(api)
    export_superset(SETTINGS, exports / "first")
    provision_superset(SETTINGS)
    export_superset(SETTINGS, exports / "second")
    conn = _pg_connect()
    _delete_test_rows(conn)
    _insert_test_rows(conn)
    _insert_cases(conn)
    # The 12345 reference the loop's timeliness is compared with.
    reference = (ROOT / SETTINGS.section("hotline_routing")["reference_data"]).resolve()
    run_step_with_output(
        SETTINGS, "replies", str(reference / "messages_with_replies.xlsx"), "--publish", "--json"
    )
    try:
        yield {"api": api, "first_state": first, "exports": exports}
    finally:
        _delete_test_rows(conn)
        conn.close()


@pytest.fixture(scope="module")
def api(stack) -> SupersetClient:
    return stack["api"]


def _chart_rows(api: SupersetClient, chart_id: int) -> list[dict]:
    return api.chart_data(chart_id, force=True)


def test_status_reports_up(stack):
    proc = subprocess.run(
        ["bash", "infra/superset.sh", "status"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "up" in proc.stdout


def test_dashboard_has_chinese_title_and_charts(stack, api):
    assert api.dashboard_by_slug(SLUG)["dashboard_title"] == TITLE
    _, charts = _dashboard_state(api)
    assert set(charts) == OVERVIEW_CHARTS


def test_provision_twice_keeps_the_same_objects(stack, api):
    assert _dashboard_state(api) == stack["first_state"]
    found = api.get(
        "/api/v1/dashboard/", q="(filters:!((col:slug,opr:eq,value:'zongzhi-overview')))"
    )
    assert found["count"] == 1


def test_provision_twice_exports_the_same_assets_and_access(stack):
    first, second = stack["exports"] / "first", stack["exports"] / "second"
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert len(files) >= 20
    changed = [f for f in files if (first / f).read_bytes() != (second / f).read_bytes()]
    assert changed == []


def test_superset_reads_through_the_read_only_role(stack):
    reader = SETTINGS.pg["reader_user"]
    databases = list((stack["exports"] / "first" / "assets" / "databases").glob("*.yaml"))
    assert len(databases) == 1
    assert f"postgresql+psycopg2://{reader}:XXXXXXXXXX@" in databases[0].read_text()
    password = (SETTINGS.var / "secrets" / "postgres.reader.password").read_text().strip()
    pg = SETTINGS.pg
    with (
        psycopg2.connect(
            host=pg["host"], port=pg["port"], dbname=pg["database"], user=reader, password=password
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute(f"SELECT count(*) FROM {SCHEMA}.daily_counts")
        assert cur.fetchone()[0] >= 0
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            cur.execute(f"DELETE FROM {SCHEMA}.daily_counts WHERE day = %s", (DAY1,))
    conn.close()
    with (
        psycopg2.connect(
            host=pg["host"], port=pg["port"], dbname=pg["database"], user=reader, password=password
        ) as conn,
        conn.cursor() as cur,
    ):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT count(*) FROM duty.accounts")
    conn.close()


def test_town_daily_chart_sums_inserted_events(api):
    _, charts = _dashboard_state(api)
    rows = {row["day"]: row for row in _chart_rows(api, charts[CHART_TOWNS])}
    day1, day2 = rows[_day_ms(DAY1)], rows[_day_ms(DAY2)]
    assert day1[TOWN_A] == 5 + 4 + 3
    assert day1[TOWN_B] == 6
    assert day2[TOWN_A] == 2
    assert day2.get(TOWN_B) is None


def test_source_trend_chart_sums_inserted_events(api):
    _, charts = _dashboard_state(api)
    rows = {row["day"]: row for row in _chart_rows(api, charts[CHART_SOURCES])}
    day1, day2 = rows[_day_ms(DAY1)], rows[_day_ms(DAY2)]
    assert day1[SOURCE_GRID] == 5 + 3
    assert day1[SOURCE_HOTLINE] == 4 + 6
    assert day2[SOURCE_GRID] == 2


def test_latest_alerts_table_lists_newest_first(api):
    _, charts = _dashboard_state(api)
    rows = _chart_rows(api, charts[CHART_ALERTS])
    assert 2 <= len(rows) <= 50
    assert list(rows[0]) == [
        "window_end_local",
        "status_label",
        "town_name",
        "village_name",
        "category_label",
        "observed",
        "expected",
        "p_value",
        "recurrence_interval_days",
        "severity",
    ]
    newest, older = rows[0], rows[1]
    # Shown in Beijing time: the wall-clock reading, as Superset's naive epoch.
    assert newest["window_end_local"] == _epoch_ms(_wall_clock(ALERT_NEWEST_END))
    assert (newest["town_name"], newest["village_name"], newest["category_label"]) == (
        TOWN_B,
        "测试村二",
        "安全隐患",
    )
    assert newest["observed"] == 14 and newest["expected"] == pytest.approx(0.5)
    assert newest["p_value"] == pytest.approx(2.0e-12) and newest["severity"] == "红色"
    assert newest["status_label"] == "持续"
    assert newest["recurrence_interval_days"] == pytest.approx(1 / (2.0e-12 * 288))
    assert older["window_end_local"] == _epoch_ms(_wall_clock(ALERT_OLDER_END))
    assert (older["town_name"], older["observed"], older["severity"]) == (TOWN_A, 9, "黄色")


def test_trend_class_chart_counts_cells_per_town_and_pattern(api):
    _, charts = _dashboard_state(api)
    rows = _chart_rows(api, charts[CHART_TREND_CLASSES])
    assert list(rows[0]) == ["town_name", "pattern_label", "cells"]
    ours = {
        (r["town_name"], r["pattern_label"]): r["cells"]
        for r in rows
        if r["town_name"] in (TOWN_A, TOWN_B)
    }
    # Cells without a pattern are left out.
    assert ours == {(TOWN_A, "加剧热点"): 2, (TOWN_A, "持续热点"): 1}
    counts = [r["cells"] for r in rows]
    assert counts == sorted(counts, reverse=True)


def test_timeliness_sets_the_work_orders_beside_the_12345_reference(api):
    dashboard_id = api.dashboard_by_slug(CASES_SLUG)["id"]
    charts = {c["slice_name"]: c["id"] for c in api.dashboard_charts(dashboard_id)}
    rows = _chart_rows(api, charts[CHART_TIMELINESS])
    assert [r["bucket"] for r in rows] == ["1天内", "3天内", "7天内", "15天内", "30天内", "60天内"]
    by_bucket = {r["bucket"]: r for r in rows}
    # messages_with_replies.xlsx: 992 of 2,816 answered within 7 days.
    assert by_bucket["7天内"]["reference_share"] == pytest.approx(992 / 2816)
    shares = [r["platform_share"] for r in rows]
    assert all(0 <= v <= 1 for v in shares) and shares == sorted(shares)


def test_no_identifier_in_clear_in_any_chart_data(api):
    texts = chart_texts(api)
    # The overview's charts read tables this session fills; charts over
    # tables not made here yet (the graph's) have no data to scan.
    overview = OVERVIEW_CHARTS - {"各镇街周环比与同比", "各类别周环比与同比"}
    assert overview <= {name for name, text in texts.items() if text}
    texts = {name: text for name, text in texts.items() if text is not None}
    leaks = {name: found for name, text in texts.items() if (found := find_in_clear(text))}
    assert not leaks, f"identifiers in clear in chart data: {leaks}"
    patterns = {name: pattern_matches_in_strings(text) for name, text in texts.items()}
    assert {name: found for name, found in patterns.items() if found} == {}


# --- what analysts see in the browser, by jurisdiction -----------------------


def _sql_scalar(sql: str, *params):
    with _pg_connect() as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        value = cur.fetchone()[0]
    conn.close()
    return value


def _sql_rows(sql: str, *params) -> list[tuple]:
    with _pg_connect() as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    conn.close()
    return rows


def _analyst_password(username: str) -> str:
    path = SETTINGS.var / "secrets" / "superset_analysts.json"
    return json.loads(path.read_text(encoding="utf-8"))[username]


def _big_number(text: str) -> int:
    return int(text.splitlines()[0].replace(",", "").strip())


@pytest.fixture(scope="module")
def browser(stack):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _analyst(username: str) -> SupersetClient:
    return SupersetClient(SETTINGS.superset_url, username, _analyst_password(username))


def _analyst_page(browser, username: str):
    context = browser.new_context(viewport={"width": 1600, "height": 1200}, locale="zh-CN")
    page = context.new_page()
    log_in(page, SETTINGS.superset_url, username, _analyst_password(username))
    return context, page


def test_warmed_overview_is_served_from_cache(stack):
    district = _analyst(DISTRICT_ANALYST)
    warmed = warm_dashboard(district, SLUG)
    assert warmed["charts"] == len(OVERVIEW_CHARTS) and warmed["rows"] > 0
    for chart in district.dashboard_charts(SLUG):
        result = district.get(f"/api/v1/chart/{chart['id']}/data/")["result"][0]
        assert result["is_cached"], chart["slice_name"]
    cached = list(query_cache_dir(SETTINGS).iterdir())
    assert len(cached) >= 5


def test_district_analyst_sees_every_overview_chart_drawn(browser):
    warm_dashboard(_analyst(DISTRICT_ANALYST), SLUG)  # this module's rows, not an older cache
    audit_before = AUDIT_LOG.stat().st_size if AUDIT_LOG.exists() else 0
    context, page = _analyst_page(browser, DISTRICT_ANALYST)
    try:
        views = open_dashboard(page, SETTINGS.superset_url, SLUG, len(OVERVIEW_CHARTS))
        screenshot(page, "superset_overview_district", ROOT)
    finally:
        context.close()
    assert {v.name for v in views} == OVERVIEW_CHARTS
    # Each chart the analyst's page loaded is in the audit trail, as JSON.
    with AUDIT_LOG.open(encoding="utf-8") as audit:
        audit.seek(audit_before)
        events = [json.loads(line) for line in audit]
    chart_loads = [
        e
        for e in events
        if e["action"] == "ChartDataRestApi.data" and f"/dashboard/{SLUG}/" in (e["referrer"] or "")
    ]
    assert len({e["slice_id"] for e in chart_loads}) == len(OVERVIEW_CHARTS)
    assert [(v.name, v.text[:60]) for v in views if not v.ok] == []
    total = next(v for v in views if v.name == CHART_TOTAL)
    assert _big_number(total.text) == _sql_scalar(f"SELECT sum(events) FROM {SCHEMA}.daily_counts")


def test_town_analyst_sees_only_its_town(browser):
    warm_dashboard(_analyst(TOWN_ANALYST), SLUG)  # this module's rows, not an older cache
    context, page = _analyst_page(browser, TOWN_ANALYST)
    try:
        views = {
            v.name: v
            for v in open_dashboard(page, SETTINGS.superset_url, SLUG, len(OVERVIEW_CHARTS))
        }
        screenshot(page, "superset_overview_town", ROOT)
        page.goto(f"{SETTINGS.superset_url}/superset/dashboard/zongzhi-graph/")
        page.wait_for_load_state("networkidle")
        graph_page = page.inner_text("body")
    finally:
        context.close()
    own = _sql_scalar(
        f"SELECT sum(events) FROM {SCHEMA}.daily_counts WHERE town_code = %s", REAL_TOWN
    )
    everyone = _sql_scalar(f"SELECT sum(events) FROM {SCHEMA}.daily_counts")
    assert own < everyone
    assert _big_number(views[CHART_TOTAL].text) == own
    assert views[CHART_TOTAL].ok and views[CHART_TOWNS].ok and views[CHART_SOURCES].ok
    # The relation graph (persons and vehicles) cannot be cut to a town: not shown.
    assert "关系网络" not in graph_page
    assert "not found" in graph_page.lower()


@pytest.mark.parametrize("slug", sorted(DASHBOARDS))
def test_district_analyst_sees_every_dashboard_drawn(browser, slug):
    context, page = _analyst_page(browser, DISTRICT_ANALYST)
    try:
        views = open_dashboard(page, SETTINGS.superset_url, slug, len(DASHBOARDS[slug]))
        screenshot(page, f"superset_{slug}_district", ROOT)
    finally:
        context.close()
    assert {v.name for v in views} == DASHBOARDS[slug]
    assert [(v.name, v.text[:60]) for v in views if not v.ok] == []


def test_town_analyst_sees_its_towns_work_orders_only(browser):
    warm_dashboard(_analyst(TOWN_ANALYST), CASES_SLUG)
    context, page = _analyst_page(browser, TOWN_ANALYST)
    try:
        views = {
            v.name: v
            for v in open_dashboard(
                page, SETTINGS.superset_url, CASES_SLUG, len(DASHBOARDS[CASES_SLUG])
            )
        }
        screenshot(page, "superset_cases_town", ROOT)
    finally:
        context.close()
    closed, cases = (
        _sql_scalar(f"SELECT {what} FROM {SCHEMA}.case_work WHERE town_code = %s", REAL_TOWN)
        for what in ("sum(closed)", "count(*)")
    )
    shown = float(views["解决率"].text.splitlines()[0].rstrip("%")) / 100
    assert shown == pytest.approx(closed / cases, abs=0.0006)
    district_cases = _sql_scalar(f"SELECT count(*) FROM {SCHEMA}.case_work")
    assert cases < district_cases


def test_a_town_without_work_orders_sees_no_data_not_errors(browser):
    """An empty dashboard says 暂无数据 in every chart, and no chart fails."""
    towns = [f"1101180{n:02d}" for n in range(1, 21)]
    busy = {row[0] for row in _sql_rows(f"SELECT DISTINCT town_code FROM {SCHEMA}.case_work")}
    idle = next(t for t in towns if t not in busy)
    context, page = _analyst_page(browser, f"analyst-{idle}")
    try:
        views = open_dashboard(
            page, SETTINGS.superset_url, CASES_SLUG, expected_charts=len(DASHBOARDS[CASES_SLUG])
        )
        screenshot(page, "superset_cases_empty_town", ROOT)
    finally:
        context.close()
    assert len(views) == len(DASHBOARDS[CASES_SLUG])
    assert [v.name for v in views if v.error] == []
    assert all(v.empty and "暂无数据" in v.text for v in views), [(v.name, v.text) for v in views]


def test_town_analyst_rows_are_its_towns_through_the_api(stack):
    town = _analyst(TOWN_ANALYST)
    _, charts = _dashboard_state(town)
    rows = _chart_rows(town, charts[CHART_TOWNS])
    towns = {key for row in rows for key in row if key != "day"}
    assert towns == {REAL_TOWN_NAME}
    alerts = _chart_rows(town, charts[CHART_ALERTS])
    assert {row["town_name"] for row in alerts} <= {REAL_TOWN_NAME}
    assert len(alerts) == min(
        50,
        _sql_scalar(f"SELECT count(*) FROM {SCHEMA}.alerts WHERE town_code = %s", REAL_TOWN),
    )
    titles = {d["dashboard_title"] for d in town.get("/api/v1/dashboard/")["result"]}
    assert titles == {TITLE, "事件闭环与督办 (密云区)", "月度研判 (密云区)", "实时热点 (密云区)"}


def _permissions(client: SupersetClient) -> set[tuple[str, str]]:
    roles = client.get("/api/v1/me/roles/")["result"]["roles"]
    return {tuple(p) for perms in roles.values() for p in perms}


def test_sql_lab_is_the_districts_only(stack):
    district = SupersetClient(
        SETTINGS.superset_url, DISTRICT_ANALYST, _analyst_password(DISTRICT_ANALYST)
    )
    town = SupersetClient(SETTINGS.superset_url, TOWN_ANALYST, _analyst_password(TOWN_ANALYST))
    sql_lab = {("menu_access", "SQL Lab"), ("can_execute_sql_query", "SQLLab")}
    assert sql_lab <= _permissions(district)
    assert not sql_lab & _permissions(town)


def test_logins_are_rate_limited(stack):
    """Repeated wrong passwords are refused with 429 before the limit's window ends.

    They come from another loopback address (127.0.0.2): the limit counts
    per client address, so logins from 127.0.0.1 go on through, as the
    last request shows, and no test has to wait for the window to pass.
    """
    import requests
    from requests.adapters import HTTPAdapter

    class FromSecondLoopback(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["source_address"] = ("127.0.0.2", 0)
            return super().init_poolmanager(*args, **kwargs)

    url = f"{SETTINGS.superset_url}/api/v1/security/login"
    wrong = {"username": TOWN_ANALYST, "password": "wrong", "provider": "db"}
    codes = []
    with requests.Session() as elsewhere:
        elsewhere.mount("http://", FromSecondLoopback())
        for _ in range(15):  # bounded: the limit is 10 per 20 seconds
            codes.append(elsewhere.post(url, json=wrong, timeout=30).status_code)
    assert set(codes) <= {401, 429}
    assert 429 in codes and codes.index(429) <= 10
    assert requests.post(url, json=wrong, timeout=30).status_code == 401
