"""The alert service on the real services (issue 13).

Kafka, PostgreSQL and the service itself are started through ``infra/``;
alerts are produced into the real alerts topic. A headless Debian Chromium
driven by Playwright logs in as a town's duty officer, sees its town's
alert arrive and not another town's, acknowledges and dispatches it; the
API refuses what an account may not see or send; a replay of the whole
topic leaves PostgreSQL as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import hypothesis
import pandas as pd
import psycopg2
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from pipelines.harness.alert_messages import hotspot_alert, watch_proposals
from pipelines.harness.services import services_down, services_up
from pipelines.harness.steps import run_step
from pipelines.io.kafka import RecordProducer, delete_groups, group_lag
from pipelines.io.platform_state import load_district, load_jurisdiction_policy
from pipelines.io.watch_list_store import publish_proposals
from pipelines.service.webhook_signing import signature_valid
from pipelines.streaming.alert_store import GROUP_ID
from tests.integration.kafka_read import read_topic

pytestmark = pytest.mark.integration

#: The acceptance's bound: a produced alert on the town's page.
LIVE_WITHIN_S = 2.0
#: A guard against a hang, not a measurement.
CATCH_UP_GUARD_S = 60
#: Generated requests per operation in the OpenAPI test (schemathesis).
OPENAPI_EXAMPLES = int(os.environ.get("ZONGZHI_OPENAPI_EXAMPLES", "20"))
CHROMIUM = os.environ.get("ZONGZHI_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ZONGZHI_TEST_ARTIFACTS", "var/test-artifacts"))


@pytest.fixture(scope="module")
def service(settings):
    """The running service: its URL, the policy and the demo accounts by center."""
    services_up(settings, ["alert-service"])
    section = settings.section("alert_service")
    accounts = json.loads(
        (settings.var / section.text("accounts_file")).read_text(encoding="utf-8")
    )
    yield {
        "url": f"http://{section.text('host')}:{section.integer('port')}",
        "policy": load_jurisdiction_policy(settings),
        "accounts": {a["username"]: a for a in accounts},
    }
    services_down(settings, ["alert-service"])


def _places(policy):
    """Two towns, and two villages of the first."""
    towns = [c for c in policy.centers.values() if c.level == "town"][:2]
    villages = [c for c in policy.centers.values() if c.parent == towns[0].id][:2]
    return towns, villages


def produce(settings, alerts: list[dict]) -> None:
    with RecordProducer(settings) as producer:
        for alert in alerts:
            producer.send(
                settings.topic("alerts"),
                json.dumps(alert, ensure_ascii=False).encode(),
                key=alert["alert_id"].encode(),
            )


def call(service, method, path, *, token=None, body=None, raw=None, headers=None):
    """``(status, parsed body)`` of one request to the service."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(service["url"] + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, text


def token(service, center_id: str) -> str:
    account = service["accounts"][f"duty-{center_id}"]
    status, body = call(
        service,
        "POST",
        "/api/token",
        body={"username": account["username"], "password": account["password"]},
    )
    assert status == 200, body
    assert body["center_id"] == center_id
    return body["access_token"]


def wait_for_alert(service, tok: str, alert_id: str) -> dict:
    deadline = time.monotonic() + CATCH_UP_GUARD_S
    while time.monotonic() < deadline:
        status, body = call(service, "GET", f"/api/alerts/{alert_id}", token=tok)
        if status == 200:
            return body
        time.sleep(0.1)
    raise AssertionError(f"alert {alert_id} never reached the service")


def _pg(settings):
    return psycopg2.connect(settings.pg_dsn())


def test_browser_town_sees_its_alert_live_and_dispatches_it(settings, service):
    from playwright.sync_api import sync_playwright

    (town, other_town), (village, _) = _places(service["policy"])
    account = service["accounts"][f"duty-{town.id}"]
    ours = hotspot_alert(town, village, severity="橙色")
    theirs = hotspot_alert(other_town, None)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(locale="zh-CN")
            page.goto(service["url"] + "/")
            page.fill("#username", account["username"])
            page.fill("#password", account["password"])
            page.click("#login-button")
            page.wait_for_selector("#status:has-text('实时连接中')", timeout=10_000)
            produced = time.monotonic()
            produce(settings, [theirs, ours])
            page.wait_for_selector(
                f"li[data-alert-id='{ours['alert_id']}']", timeout=LIVE_WITHIN_S * 1000
            )
            seen_after = time.monotonic() - produced
            # Both were produced in one batch, the other town's first: had it
            # been sent to this page, it would be there by now.
            page.wait_for_timeout(500)
            assert page.locator(f"li[data-alert-id='{theirs['alert_id']}']").count() == 0
            card = page.locator(f"li[data-alert-id='{ours['alert_id']}']")
            assert "盗窃" in card.inner_text() and "橙色" in card.inner_text()
            # The scale that raised it and the span it covers, as staff read them.
            assert "时间尺度：分钟级，近 30分钟" in card.inner_text()
            card.locator("button.ack").click()
            page.wait_for_selector(
                f"li[data-alert-id='{ours['alert_id']}'] button.ack:has-text('已签收')"
            )
            card = page.locator(f"li[data-alert-id='{ours['alert_id']}']")
            card.locator("input.comment").fill("已通知社区民警到场核实")
            card.locator("button.send-comment").click()
            page.wait_for_selector(
                f"li[data-alert-id='{ours['alert_id']}'] .comments:has-text('评论 1 条')"
            )
            card = page.locator(f"li[data-alert-id='{ours['alert_id']}']")
            card.locator("select.department").select_option("公安")
            card.locator("button.dispatch").click()
            page.wait_for_selector(
                f"li[data-alert-id='{ours['alert_id']}'] .case-state:has-text('已派单')"
            )
            page.screenshot(path=str(ARTIFACTS / "alert_service_town_page.png"), full_page=True)
        finally:
            browser.close()
    assert seen_after < LIVE_WITHIN_S
    with _pg(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT c.state, c.department, c.center_id, c.dispatched_by, s.acknowledged_by "
            "FROM duty.cases c JOIN duty.alert_assignments s USING (alert_id) "
            "WHERE c.alert_id = %s",
            (ours["alert_id"],),
        )
        assert cur.fetchone() == (
            "dispatched",
            "公安",
            town.id,
            account["username"],
            account["username"],
        )
        cur.execute(
            "SELECT center_id, reason FROM duty.alert_recipients WHERE alert_id = %s ORDER BY 2, 1",
            (ours["alert_id"],),
        )
        # 橙色: the village's station (home) and its town (one level up).
        assert cur.fetchall() == [(village.id, "home"), (town.id, "severity")]
        cur.execute(
            "SELECT actor, action, detail->>'note' FROM duty.audit WHERE subject = %s "
            "AND action IN ('acknowledge', 'comment') ORDER BY id",
            (ours["alert_id"],),
        )
        assert cur.fetchall() == [
            (account["username"], "acknowledge", None),
            (account["username"], "comment", "已通知社区民警到场核实"),
        ]
    conn.close()


def test_access_is_the_jurisdiction_policy(settings, service):
    (town, other_town), (village, sibling) = _places(service["policy"])
    alert = hotspot_alert(town, village)
    produce(settings, [alert])
    town_token = token(service, town.id)
    wait_for_alert(service, town_token, alert["alert_id"])
    path = f"/api/alerts/{alert['alert_id']}"

    assert call(service, "GET", path)[0] == 401
    assert call(service, "GET", "/api/alerts", token="not-a-token")[0] == 401
    assert call(service, "GET", "/api/stream")[0] == 401
    assert call(service, "GET", path, token=token(service, other_town.id))[0] == 403
    sibling_token = token(service, sibling.id)
    assert call(service, "GET", path, token=sibling_token)[0] == 403
    assert call(service, "POST", path + "/acknowledge", token=sibling_token)[0] == 403
    assert call(service, "GET", path, token=token(service, village.id))[0] == 200
    assert (
        call(service, "GET", path, token=token(service, service["policy"].district_code))[0] == 200
    )
    listed = {
        a["alert_id"] for a in call(service, "GET", "/api/alerts?limit=500", token=sibling_token)[1]
    }
    assert alert["alert_id"] not in listed

    status, case = call(
        service, "POST", path + "/dispatch", token=town_token, body={"department": "城管"}
    )
    assert status == 201 and case["state"] == "dispatched"
    case_path = f"/api/cases/{case['case_id']}"
    assert call(service, "GET", case_path, token=token(service, other_town.id))[0] == 403
    assert call(service, "GET", case_path, token=sibling_token)[0] == 403
    status, moved = call(
        service, "POST", case_path + "/moves", token=town_token, body={"to": "accepted"}
    )
    assert status == 200 and moved["state_label"] == "已受理"
    assert [e["action"] for e in moved["trail"]] == ["dispatch", "move"]
    status, refused = call(
        service, "POST", case_path + "/moves", token=town_token, body={"to": "closed"}
    )
    assert status == 409 and "cannot move to 'closed'" in refused["detail"]


def _stream_lines(service, tok: str, seconds: float) -> list[str]:
    """What the live stream sends an account within ``seconds``."""
    request = urllib.request.Request(service["url"] + "/api/stream")
    request.add_header("authorization", f"Bearer {tok}")
    lines: list[str] = []

    def read():
        try:
            with urllib.request.urlopen(request, timeout=seconds + 5) as response:
                for raw in response:
                    lines.append(raw.decode().rstrip("\n"))
        except Exception:  # the read is cut when the test is done with it
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return lines


def test_live_stream_sends_only_what_the_center_may_see(settings, service):
    (town, other_town), (village, sibling) = _places(service["policy"])
    streams = {
        center: _stream_lines(service, token(service, center), 10)
        for center in (town.id, other_town.id, sibling.id, village.id)
    }
    time.sleep(1.0)
    alert = hotspot_alert(town, village)
    produce(settings, [alert])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        alert["alert_id"] in line for line in streams[town.id]
    ):
        time.sleep(0.1)
    time.sleep(0.5)

    def got(center):
        return any(alert["alert_id"] in line for line in streams[center])

    assert streams[town.id][0] == "event: hello"
    assert got(town.id) and got(village.id)
    assert not got(other_town.id) and not got(sibling.id)


SQL_INJECTIONS = (
    "' OR '1'='1",
    "1; DROP TABLE duty.cases; --",
    "x' UNION SELECT * FROM duty.accounts --",
)


def _written(settings) -> tuple:
    with _pg(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM duty.cases), (SELECT count(*) FROM duty.audit "
            "WHERE action <> 'login'), (SELECT count(*) FROM duty.accounts), "
            "(SELECT count(*) FROM duty.alert_assignments WHERE acknowledged_at IS NOT NULL)"
        )
        row = cur.fetchone()
    conn.close()
    return row


def test_bad_input_gets_4xx_and_writes_nothing(settings, service):
    (town, _), (village, _) = _places(service["policy"])
    alert = hotspot_alert(town, village)
    produce(settings, [alert])
    tok = token(service, town.id)
    wait_for_alert(service, tok, alert["alert_id"])
    before = _written(settings)
    path = f"/api/alerts/{alert['alert_id']}"
    attempts = []
    for bad in SQL_INJECTIONS:
        quoted = urllib.request.quote(bad, safe="")
        attempts += [
            ("GET", f"/api/alerts/{quoted}", None),
            ("POST", f"/api/alerts/{quoted}/acknowledge", None),
            ("POST", f"/api/alerts/{quoted}/dispatch", {"department": "公安"}),
            ("GET", f"/api/cases/{quoted}", None),
            ("POST", path + "/dispatch", {"department": bad}),
            ("POST", "/api/token", {"username": bad, "password": bad}),
        ]
    attempts += [
        ("GET", "/api/alerts/zzs-unknown-alert", None),
        ("GET", "/api/cases/AJ-000000000000", None),
        ("POST", "/api/cases/AJ-000000000000/moves", {"to": "accepted"}),
        ("POST", path + "/dispatch", {"department": 7}),
        ("POST", path + "/dispatch", {"department": "公安", "note": ["x"]}),
        ("POST", path + "/dispatch", {"department": "公安", "extra": 1}),
        ("POST", path + "/dispatch", {"department": "消防"}),
        ("POST", path + "/comments", {"note": ""}),
        ("POST", path + "/comments", {"note": "x" * 501}),
        ("GET", "/api/alerts?limit=0", None),
        ("GET", "/api/alerts?limit=abc", None),
        ("POST", "/api/token", {"username": "duty-" + town.id}),
    ]
    for method, target, body in attempts:
        status, answer = call(service, method, target, token=tok, body=body)
        assert 400 <= status < 500, (method, target, body, status, answer)
    status, answer = call(
        service, "POST", path + "/comments", token=tok, raw=b'{"note": "' + b"x" * 70_000 + b'"}'
    )
    assert status == 413, answer
    status, answer = call(service, "POST", path + "/dispatch", token=tok, raw=b"{not json")
    assert status == 422, answer
    assert _written(settings) == before


def _snapshot(settings) -> str:
    """A digest of every row the consumer writes."""
    schema = settings.pg["schema"]
    digest = hashlib.sha256()
    with _pg(settings) as conn, conn.cursor() as cur:
        for table, order in (
            (f"{schema}.alerts", "alert_id"),
            (f"{schema}.alert_updates", "alert_id, updated_window_end, status"),
            (f"{schema}.watch_alerts", "alert_id"),
            ("duty.alert_assignments", "alert_id"),
            ("duty.alert_recipients", "alert_id, center_id"),
            ("duty.cases", "case_id"),
        ):
            cur.execute(f"SELECT * FROM {table} ORDER BY {order}")
            digest.update(repr(cur.fetchall()).encode())
    conn.close()
    return digest.hexdigest()


def test_replaying_the_alerts_topic_changes_nothing(settings, service):
    (town, _), (village, _) = _places(service["policy"])
    first = hotspot_alert(town, village, tag=f"replay-{uuid.uuid4().hex[:6]}")
    produce(settings, [first, dict(first, status="ongoing", severity="红色", observed=12)])
    wait_for_alert(service, token(service, town.id), first["alert_id"])
    deadline = time.monotonic() + CATCH_UP_GUARD_S
    while group_lag(settings, GROUP_ID, settings.topic("alerts")) and time.monotonic() < deadline:
        time.sleep(0.2)
    # Both digests are taken with the service stopped: its escalation pass
    # (every ESCALATION_SECONDS) moves earlier tests' alerts as time passes,
    # which is not the replay's doing.
    services_down(settings, ["alert-service"])
    before = _snapshot(settings)
    delete_groups(settings, [GROUP_ID])
    services_up(settings, ["alert-service"])
    deadline = time.monotonic() + CATCH_UP_GUARD_S
    while group_lag(settings, GROUP_ID, settings.topic("alerts")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert group_lag(settings, GROUP_ID, settings.topic("alerts")) == 0
    services_down(settings, ["alert-service"])
    after = _snapshot(settings)
    services_up(settings, ["alert-service"])
    assert after == before


@pytest.fixture(scope="module")
def api_schema(service):
    schema = schemathesis.openapi.from_url(service["url"] + "/openapi.json")
    # The stream never ends, and logging out would revoke the token the cases use.
    return schema.exclude(path="/api/stream").exclude(path="/api/logout")


@pytest.fixture(scope="module")
def openapi_token(service):
    """A town's token; the webhooks the generated requests subscribe are removed afterwards."""
    (town, _), _ = _places(service["policy"])
    tok = token(service, town.id)
    yield tok
    for sub in call(service, "GET", "/api/webhooks", token=tok)[1]:
        call(service, "DELETE", f"/api/webhooks/{sub['subscription_id']}", token=tok)


def _fuzz(operation, token_: str, mode=GenerationMode.POSITIVE) -> None:
    """Feed one operation what its description allows (or, negative, what it refuses); check every answer."""
    # An Open311 request may be well-formed and still lie outside the
    # district or name another center's place: refusing it is right.
    excluded = [positive_data_acceptance] if operation.path.startswith("/open311/") else []

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=OPENAPI_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def check(case):
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token_}"}, excluded_checks=excluded
        )

    check()


def test_the_api_keeps_its_openapi_description(api_schema, openapi_token):
    """Every operation answers as its OpenAPI description says (schemathesis)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        _fuzz(operation, openapi_token)


def test_every_endpoint_refuses_what_its_description_refuses_and_writes_nothing(
    settings, api_schema, openapi_token
):
    """Wrong types, missing fields, bad ids on every operation: a 4xx each, nothing written."""
    before = _written(settings)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    fuzzed = []
    for operation in operations:
        try:
            _fuzz(operation, openapi_token, GenerationMode.NEGATIVE)
        except hypothesis.errors.Unsatisfiable:
            continue  # nothing to get wrong: no parameters and no body
        fuzzed.append(f"{operation.method.upper()} {operation.path}")
    # Every operation with a parameter or a body had wrong values to refuse.
    assert len(fuzzed) >= 18, fuzzed
    assert _written(settings) == before


class Receiver:
    """A webhook target on loopback: answers each request with the next of ``answers`` (then 200)."""

    def __init__(self, answers=(), delay_s: float = 0.0):
        self.answers = list(answers)
        self.delay_s = delay_s
        self.requests: list[tuple[dict, bytes, float]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body, time.monotonic()))
                time.sleep(receiver.delay_s)
                code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _deliveries(settings, alert_id):
    with _pg(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT subscription_id, status, attempts, last_error FROM duty.webhook_batches "
            "WHERE %s = ANY(alert_ids)",
            (alert_id,),
        )
        rows = {r[0]: r[1:] for r in cur.fetchall()}
    conn.close()
    return rows


def test_webhooks_are_signed_retried_dead_lettered_and_kept_to_the_jurisdiction(settings, service):
    (town, _), (village, sibling) = _places(service["policy"])
    town_token, sibling_token = token(service, town.id), token(service, sibling.id)
    flaky, slow, ours_only = Receiver(answers=(500, 503)), Receiver(delay_s=4.0), Receiver()
    refused_port = Receiver()
    refused_port.close()  # nothing listens there any more: connections are refused
    subscriptions = {}
    try:
        for name, tok, url in (
            ("flaky", town_token, flaky.url),
            ("slow", town_token, slow.url),
            ("down", town_token, refused_port.url),
            ("sibling", sibling_token, ours_only.url),
        ):
            status, sub = call(service, "POST", "/api/webhooks", token=tok, body={"url": url})
            assert status == 201, sub
            subscriptions[name] = sub
        for elsewhere in ("http://10.1.2.3/x", "http://127.0.0.1@10.1.2.3/x", "file:///etc/passwd"):
            status, refused = call(
                service, "POST", "/api/webhooks", token=town_token, body={"url": elsewhere}
            )
            assert status == 422 and refused["detail"][0]["loc"] == ["body", "url"], refused
        path = f"/api/webhooks/{subscriptions['flaky']['subscription_id']}"
        assert call(service, "DELETE", path, token=sibling_token)[0] == 403
        listed = call(service, "GET", "/api/webhooks", token=sibling_token)[1]
        assert [s["subscription_id"] for s in listed] == [
            subscriptions["sibling"]["subscription_id"]
        ]
        assert "secret" not in listed[0]

        alert = hotspot_alert(town, village)
        produce(settings, [alert])
        deadline = time.monotonic() + 30
        ids = {name: sub["subscription_id"] for name, sub in subscriptions.items()}
        while time.monotonic() < deadline:
            done = _deliveries(settings, alert["alert_id"])
            if ids["flaky"] in done and ids["down"] in done:
                break
            time.sleep(0.2)
        done = _deliveries(settings, alert["alert_id"])
        # Two refusals, then delivered on the third attempt, while the slow
        # target was still holding its first (3 s timeout, 4 s answer).
        assert done[ids["flaky"]] == ("delivered", 3, "")
        assert flaky.requests[-1][2] < slow.requests[0][2] + 3.0
        assert done[ids["down"]][:2] == ("dead", 4)
        assert "ConnectionError" in done[ids["down"]][2]
        assert ours_only.requests == [] and ids["sibling"] not in done
        keys = {h["X-Zongzhi-Delivery"] for h, _, _ in flaky.requests}
        assert len(flaky.requests) == 3 and len(keys) == 1
        headers, body, _ = flaky.requests[-1]
        assert signature_valid(
            subscriptions["flaky"]["secret"], headers, body, now_s=int(time.time())
        )
        assert not signature_valid(
            subscriptions["slow"]["secret"], headers, body, now_s=int(time.time())
        )
        delivered = json.loads(body)
        assert [a["alert_id"] for a in delivered["alerts"]] == [alert["alert_id"]]
        assert delivered["delivery_id"] == keys.pop()
    finally:
        for name, sub in subscriptions.items():
            tok = sibling_token if name == "sibling" else town_token
            call(service, "DELETE", f"/api/webhooks/{sub['subscription_id']}", token=tok)
        for receiver in (flaky, slow, ours_only):
            receiver.close()


def _open311(service, method, path, *, form=None, params=None):
    """``(status, parsed body)`` of an Open311 call, form-encoded as the standard's clients send."""
    url = service["url"] + "/open311/v2" + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    data = None if form is None else urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_open311_requests_enter_normalization_and_show_their_case(settings, service):
    (town, other_town), (village, _) = _places(service["policy"])
    place = next(v for v in load_district(settings).villages if v.code == village.id)
    town_token = token(service, town.id)
    status, services = _open311(service, "GET", "/services.json")
    assert status == 200
    assert {"service_code": "hotline.transport", "service_name": "交通运输"}.items() <= next(
        s for s in services if s["service_code"] == "hotline.transport"
    ).items()

    probe = "open" + uuid.uuid4().hex[:12].translate(str.maketrans("0123456789", "ghijklmnop"))
    form = {
        "api_key": town_token,
        "service_code": "hotline.transport",
        "lat": f"{place.lat:.6f}",
        "long": f"{place.lon:.6f}",
        "description": f"村口路灯坏了 {probe}，请尽快修理。联系电话13800138000",
        "first_name": "三",
        "last_name": "张",
        "phone": "13912345678",
    }
    assert _open311(service, "POST", "/requests.json", form=dict(form, api_key="nope"))[0] == 403
    status, refused = _open311(
        service, "POST", "/requests.json", form=dict(form, service_code="grid.fire")
    )
    assert (
        status == 400 and refused[0]["code"] == 400 and "service_code" in refused[0]["description"]
    )
    assert _open311(service, "POST", "/requests.json", form=dict(form, lat="91x"))[0] == 400
    status, created = _open311(service, "POST", "/requests.json", form=form)
    assert status == 200, created
    request_id = created[0]["service_request_id"]

    path = f"/requests/{request_id}.json"
    status, [answer] = _open311(service, "GET", path, params={"api_key": town_token})
    assert status == 200
    assert (answer["status"], answer["status_notes"], answer["agency_responsible"]) == (
        "open",
        "已受理，待派单",
        "",
    )
    assert answer["address"] == f"{town.name.removesuffix('综治中心')} {place.name}"
    other = token(service, other_town.id)
    assert _open311(service, "GET", path, params={"api_key": other})[0] == 403
    assert _open311(service, "GET", path)[0] == 403
    listed = _open311(service, "GET", "/requests.json", params={"api_key": other})[1]
    assert request_id not in {r["service_request_id"] for r in listed}

    # Through normalization like any hotline call: pseudonymized, placed, kept.
    run_step(settings, "normalize")
    normalized = [
        json.loads(v)
        for v in read_topic(settings, settings.topic("normalized"))
        if probe.encode() in v
    ]
    assert len(normalized) == 1
    event = normalized[0]
    assert (event["source"], event["category"], event["village_code"]) == (
        "hotline",
        "hotline.transport",
        village.id,
    )
    text = json.dumps(event, ensure_ascii=False)
    assert "13800138000" not in text and "13912345678" not in text and "张三" not in text

    status, case = call(
        service,
        "POST",
        f"/api/requests/{request_id}/dispatch",
        token=town_token,
        body={"department": "城管"},
    )
    assert status == 201, case
    _, [answer] = _open311(service, "GET", path, params={"api_key": town_token})
    assert (answer["status"], answer["status_notes"], answer["agency_responsible"]) == (
        "open",
        "已派单",
        "城管",
    )
    for to in ("accepted", "handled", "verified", "closed"):
        status, _ = call(
            service,
            "POST",
            f"/api/cases/{case['case_id']}/moves",
            token=town_token,
            body={"to": to},
        )
        assert status == 200
    _, [answer] = _open311(service, "GET", path, params={"api_key": town_token})
    assert (answer["status"], answer["status_notes"]) == ("closed", "已结案")
    closed = _open311(
        service, "GET", "/requests.json", params={"api_key": town_token, "status": "closed"}
    )[1]
    assert request_id in {r["service_request_id"] for r in closed}


def test_the_watch_list_is_watched_only_by_a_district_approval_with_a_reason(settings, service):
    folder = settings.lake_table("watch_list")
    tag = uuid.uuid4().hex[:8]
    publish_proposals(folder, watch_proposals(tag))
    (town, _), _ = _places(service["policy"])
    district = service["policy"].district_code
    district_token, town_token = token(service, district), token(service, town.id)

    assert call(service, "GET", "/api/watch/proposals", token=town_token)[0] == 403
    status, pending = call(service, "GET", "/api/watch/proposals", token=district_token)
    assert status == 200
    ours = {p["vehicle_node"]: p for p in pending if tag in p["vehicle_node"]}
    assert len(ours) == 2
    first, second = ours[f"vehicle:zzt-{tag}-0"], ours[f"vehicle:zzt-{tag}-1"]
    assert (first["status_label"], first["detail"], len(first["persons"])) == (
        "待审批",
        "与 2 名重点人员共同涉事 3 次",
        2,
    )
    path = "/api/watch/proposals/{}/{}"
    assert (
        call(
            service,
            "POST",
            path.format(first["proposal_id"], "approve"),
            token=town_token,
            body={"reason": "核实无误，批准"},
        )[0]
        == 403
    )
    assert (
        call(
            service,
            "POST",
            path.format(first["proposal_id"], "approve"),
            token=district_token,
            body={"reason": "批"},
        )[0]
        == 422
    )
    status, approved = call(
        service,
        "POST",
        path.format(first["proposal_id"], "approve"),
        token=district_token,
        body={"reason": "核实为重点人员关联车辆，批准布控"},
    )
    assert status == 200 and approved["status"] == "approved"
    assert approved["decided_by"] == f"duty-{district}"
    status, rejected = call(
        service,
        "POST",
        path.format(second["proposal_id"], "reject"),
        token=district_token,
        body={"reason": "证据不足，驳回"},
    )
    assert status == 200 and rejected["status_label"] == "已驳回"
    assert (
        call(
            service,
            "POST",
            path.format(second["proposal_id"], "approve"),
            token=district_token,
            body={"reason": "再次批准"},
        )[0]
        == 409
    )
    status, renewed = call(
        service,
        "POST",
        path.format(first["proposal_id"], "renew"),
        token=district_token,
        body={"reason": "仍需关注，续期"},
    )
    assert status == 200 and renewed["expires_at"] > approved["expires_at"]

    watched = pd.read_parquet(folder / "watch_list.parquet").set_index("vehicle_node")
    assert f"vehicle:zzt-{tag}-0" in watched.index and f"vehicle:zzt-{tag}-1" not in watched.index
    entry = watched.loc[f"vehicle:zzt-{tag}-0"]
    assert (entry["approval_id"], entry["approved_by"], entry["approval_reason"]) == (
        first["proposal_id"],
        f"duty-{district}",
        "仍需关注，续期",
    )
    with _pg(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT subject, action FROM duty.audit WHERE subject = ANY(%s) ORDER BY id",
            ([first["proposal_id"], second["proposal_id"]],),
        )
        trail = cur.fetchall()
    conn.close()
    assert [a for s, a in trail if s == first["proposal_id"]] == [
        "watch_propose",
        "watch_approve",
        "watch_renew",
    ]
    assert [a for s, a in trail if s == second["proposal_id"]] == ["watch_propose", "watch_reject"]


def test_an_administrator_adds_a_persons_account_and_resets_its_password(settings, service):
    (town, _), _ = _places(service["policy"])
    username = f"zzt.{uuid.uuid4().hex[:8]}"
    added = run_step(
        settings, "accounts", "add", "--username", username, "--center", town.id, "--name", "张三"
    )
    assert (added["center_id"], added["role"]) == (town.id, "duty")
    status, answer = call(
        service, "POST", "/api/token", body={"username": username, "password": added["password"]}
    )
    assert status == 200 and answer["display_name"] == "张三"
    reset = run_step(settings, "accounts", "password", "--username", username)
    assert reset["password"] != added["password"]
    assert call(service, "GET", "/api/me", token=answer["access_token"])[0] == 401
    status, _ = call(
        service, "POST", "/api/token", body={"username": username, "password": added["password"]}
    )
    assert status == 401
    listed = run_step(settings, "accounts", "list", "--center", town.id)["accounts"]
    assert username in {a["username"] for a in listed} and "password" not in listed[0]
