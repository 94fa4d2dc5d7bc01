"""Tests for pipelines.service.alert_router: the rows an alert is routed with, and what is published."""

from __future__ import annotations

from pipelines.service.alert_router import AlertRouter, severity_of
from tests.unit.pipelines.service.conftest import alert


class Cursor:
    """Records the rows written; answers the open-case query with ``open_cases``."""

    def __init__(self, open_cases=()):
        self.calls = []
        self.open_cases = list(open_cases)

    def execute(self, sql, params):
        assert sql.startswith("SELECT alert_id FROM duty.cases")
        self.asked = params[0]

    def fetchall(self):
        return [(a,) for a in self.open_cases if a in self.asked]

    def executemany(self, sql, rows):
        self.calls.append((sql.split("(")[0].strip(), list(rows)))


def test_an_alert_is_assigned_to_its_village_and_told_up_as_its_severity_says(policy, rules):
    cur = Cursor()
    AlertRouter(policy, rules, print).write(cur, [alert(severity="橙色")], [])
    (_, assignments), (_, told) = cur.calls
    assert assignments == [
        (
            "zz-a1",
            "hotspot",
            "橙色",
            "110118001",
            "110118001001",
            "110118001001",
            "110118001001",
            False,
            1_765_000_000_000,
        )
    ]
    assert told == [
        ("zz-a1", "110118001001", "home", 1_765_000_000_000),
        ("zz-a1", "110118001", "severity", 1_765_000_000_000),
    ]


def test_an_unlocated_alert_is_the_districts(policy, rules):
    cur = Cursor()
    AlertRouter(policy, rules, print).write(cur, [alert(town="", village="", severity="黄色")], [])
    (_, [assignment]), (_, told) = cur.calls
    assert assignment[3:8] == (None, None, "110118", "110118", True)
    assert told == [("zz-a1", "110118", "home", 1_765_000_000_000)]


def test_a_watch_alert_is_told_up_to_the_district(policy, rules):
    watch = {
        "alert_id": "zz-w1",
        "kind": "watch",
        "town_code": "110118002",
        "village_code": "110118002001",
        "site_name": "一号卡口",
        "emitted_at_ms": 5,
    }
    cur = Cursor()
    AlertRouter(policy, rules, print).write(cur, [], [watch])
    assert severity_of(watch) == "关注"
    assert [(r[1], r[2]) for r in cur.calls[1][1]] == [
        ("110118002001", "home"),
        ("110118002", "severity"),
        ("110118", "severity"),
    ]


def test_committed_alerts_are_published_as_live_items_of_their_home_center(policy, rules):
    published = []
    AlertRouter(policy, rules, published.append).committed([alert()], [])
    [[item]] = published
    assert (item["alert_id"], item["center_id"], item["center_name"]) == (
        "zz-a1",
        "110118001001",
        "110118001001综治工作站",
    )
    assert (item["title"], item["place"], item["status_label"]) == (
        "盗窃",
        "鼓楼街道 阳光社区",
        "新发",
    )


def test_an_alert_under_an_open_case_is_stored_but_raises_nothing_new(policy, rules):
    published = []
    router = AlertRouter(policy, rules, published.append)
    cur = Cursor(open_cases=["zz-a1"])
    batch = [alert(status="ongoing"), alert(alert_id="zz-a2")]
    router.write(cur, batch, [])
    assert [row[0] for row in cur.calls[0][1]] == ["zz-a1", "zz-a2"]  # both routed
    router.committed(batch, [])
    assert [i["alert_id"] for i in published[0]] == ["zz-a2"]
