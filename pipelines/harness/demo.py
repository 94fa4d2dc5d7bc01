"""The demo: the whole platform end to end on the real services.

1. Services up: Kafka, PostgreSQL, Superset (provisioned from infra/).
2. Fresh topics, lake and alerts table, so that every count below belongs
   to this run.
3. Backfill: first ``history_days`` (15) days of the district written
   straight into the lake through the real contract (trend classes,
   week-on-week changes and the monthly report need weeks); then a day of
   simulated history → normalization → lake →
   nightly, which writes the first per-cell baselines, and the relation
   graph, which proposes the first watch list (the vehicles of key persons);
   the alert service comes up and the district's supervisor approves the
   proposals with a reason, which publishes the list the stream watches.
4. Live: the normalization, hotspot and lake jobs and the alert service
   (which stores, routes and pushes the alerts) run in streaming mode while the simulator streams a few hours of event time,
   paced, with a planted surge, some malformed records, and the same
   district's rings out on the roads: a watched vehicle passing a sensitive
   checkpoint raises a watch-list alert.
5. Nightly again over everything, then the relation graph job (entity
   resolution, companion vehicles of the planted rings, communities, risk),
   then both Superset dashboards are checked through their REST API.
   The surge's alert is filed as a case by its center's duty officer,
   through the alert service's API: dispatched to the police, accepted,
   handled, verified and closed.
   The planners' monthly report of the current month is written to
   ``var/reports`` (HTML, PDF).
6. A summary: counts per stage, alerts raised, whether the surge was found,
   the case, and the URLs (the live page's too, with where the demo
   accounts' passwords are).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg2

from features.local_time import DISTRICT_TZ
from pipelines.errors import ServiceError
from pipelines.harness.duty_client import DutyClient, alert_service_url, demo_account
from pipelines.harness.lake_backfill import backfill_lake
from pipelines.harness.notebooks import monthly_report
from pipelines.harness.restart_check import checkpoint_id, hotspot_lag, normalize_lag
from pipelines.harness.steps import child_env, run_step
from pipelines.harness.streams import fresh_streams
from pipelines.io.kafka import group_lag, topic_counts
from pipelines.io.platform_router import has_router, router_folder
from pipelines.io.platform_state import load_incident_fusion
from pipelines.settings import Settings
from pipelines.streaming import alert_store, hotspot_job, lake_writer

__all__ = ["run_demo", "StreamingJobs"]

log = logging.getLogger(__name__)

_SURGE_CATEGORY = "public_order.petty_theft"
# The planted surge: this many events more than usual in one hour in the
# district's busiest petty-theft cell. A fixed multiplier says little there:
# at 12x the cell's usual 0.37 events an hour added 4 events expected (2 in
# one run), which no detector tells from chance (a cluster needs
# hotspot.min_observed events).
_SURGE_EXTRA_EVENTS = 20.0
_SURGE_MINUTES = 60.0
# Rings planted in the history and the live stream, and how often each goes
# out: often enough that a few live hours see them pass their checkpoints.
_RINGS = 3
_RING_OUTINGS_PER_DAY = 12.0
# Incidents that several channels report (a grid report, a call, a camera
# alarm), planted in the live stream: the hotspot job counts each once.
_INCIDENTS_PER_DAY = 40.0
# The demo compresses event time (--speedup): a few seconds of processing
# disorder in the normalized stream become many minutes of event time. Measured
# in a 240x demo run: events up to 30.5 min (7.6 s of wall time) behind the
# stream's latest, all through the live hours. The live hotspot job allows
# this much wall time of disorder, scaled by the speedup, or its configured
# allowance if that is more; otherwise such events miss their windows.
_PROCESSING_DISORDER_WALL_S = 10.0


class StreamingJobs:
    """The streaming jobs as child processes, each in its own process group."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> None:
        """Start ``zongzhi NAME ARGS`` in its own process group, logging to ``var/log``."""
        log_path = self.settings.var / "log" / f"demo-{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "w") as out:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "pipelines.cli", name, *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.settings.root,
                env=child_env(),
            )

    def check(self) -> None:
        """Raise :class:`ServiceError` naming any job that has exited."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise ServiceError(
                    f"streaming job '{name}' exited with code {proc.returncode}; "
                    f"see {self.settings.var / 'log' / f'demo-{name}.log'}"
                )

    def kill(self, name: str) -> None:
        """Kill job ``name`` at once (SIGKILL to its process group): a crash, no clean-up."""
        proc = self.procs.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self) -> None:
        """Stop every job started here (SIGTERM to its process group, then wait)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_caught_up(settings: Settings, jobs: StreamingJobs, timeout_s: float = 300) -> None:
    """Wait until every record produced is accounted for downstream.

    Exact, not a pause: the Flink jobs commit a record's offset only when
    the checkpoint that covers it completes, so a zero lag (committed
    records after the committed offsets, :func:`group_lag`) means their
    output is committed. Windows that the last records closed write their
    alerts in a later checkpoint's transaction: two more hotspot
    checkpoints, then the alert store must have read every alert.
    """
    deadline = time.monotonic() + timeout_s
    drained_at = None
    while time.monotonic() < deadline:
        jobs.check()
        lags = {
            "normalize": normalize_lag(settings),
            "hotspot": hotspot_lag(settings),
            "lake": group_lag(settings, lake_writer.GROUP_ID, settings.topic("normalized")),
        }
        if any(lags.values()):
            drained_at = None
        elif drained_at is None:
            drained_at = checkpoint_id(settings, hotspot_job.GROUP_ID)
        elif checkpoint_id(settings, hotspot_job.GROUP_ID) >= drained_at + 2:
            lags["alert-store"] = group_lag(
                settings, alert_store.GROUP_ID, settings.topic("alerts")
            )
            if lags["alert-store"] == 0:
                return
        log.info("waiting for the streaming jobs to catch up: lag %s", lags)
        time.sleep(3)
    raise ServiceError(f"the streaming jobs did not catch up within {timeout_s:.0f}s: lag {lags}")


def _clear_alerts(settings: Settings) -> None:
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        schema = settings.pg["schema"]
        cur.execute(
            f"TRUNCATE {schema}.alerts, {schema}.alert_updates, {schema}.watch_alerts, "
            f"{schema}.watch_alert_reads, duty.alert_assignments, duty.alert_recipients, "
            "duty.cases, duty.watch_proposals"
        )
    conn.close()


def _pg_counts(settings: Settings, surge_cell: str) -> dict:
    schema = settings.pg["schema"]
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT count(*), count(*) FILTER (WHERE %s = ANY(cells) AND category = %s) "
            f"FROM {schema}.alerts",
            (surge_cell, _SURGE_CATEGORY),
        )
        alerts, surge_alerts = cur.fetchone()
        cur.execute(
            f"SELECT alert_id FROM {schema}.alerts ORDER BY %s = ANY(cells) AND category = %s "
            "DESC, score DESC LIMIT 1",
            (surge_cell, _SURGE_CATEGORY),
        )
        surge_alert = cur.fetchone()
        cur.execute(f"SELECT count(*) FROM {schema}.alert_updates")
        (updates,) = cur.fetchone()
        cur.execute(f"SELECT coalesce(sum(events), 0) FROM {schema}.daily_counts")
        (daily_events,) = cur.fetchone()
        cur.execute(
            f"SELECT count(*), coalesce(sum(reads), 0), "
            f"count(DISTINCT vehicle_node) FROM {schema}.watch_alerts"
        )
        watch_alerts, watch_reads, watch_vehicles = cur.fetchone()
        cur.execute(f"SELECT summary FROM {schema}.watch_alerts ORDER BY event_time LIMIT 1")
        first_watch = cur.fetchone()
    conn.close()
    return {
        "alerts": alerts,
        "surge_alerts": surge_alerts,
        "surge_alert_id": surge_alert[0] if surge_alert else None,
        "updates": updates,
        "daily_count_events": int(daily_events),
        "watch_alerts": watch_alerts,
        "watch_reads": int(watch_reads),
        "watch_vehicles": watch_vehicles,
        "first_watch_alert": first_watch[0] if first_watch else None,
    }


#: The demo's case: dispatched to the police, then through every state to closure.
_CASE_DEPARTMENT = "公安"
_CASE_MOVES = ("accepted", "handled", "verified", "closed")


#: Why the demo's supervisor approves the night's proposals.
_APPROVAL_REASON = "演示：区综治中心审核重点人员关联车辆，批准布控"


def _approve_proposals(settings: Settings) -> dict:
    """Approve every pending watch-list proposal as the district's supervisor, with a reason."""
    district = settings.section("district")["code"]
    account = demo_account(settings, f"supervisor-{district}")
    supervisor = DutyClient(alert_service_url(settings), account["username"], account["password"])
    pending = supervisor.get("/api/watch/proposals")
    for proposal in pending:
        supervisor.post(
            f"/api/watch/proposals/{proposal['proposal_id']}/approve", {"reason": _APPROVAL_REASON}
        )
    return {"approved": len(pending), "by": account["username"]}


def _file_one_case(settings: Settings, alert_id: str | None) -> dict | None:
    """File a case for the alert through its states, as its home center's duty officer."""
    if alert_id is None:
        return None
    district = DutyClient.for_center(settings, settings.section("district")["code"])
    home = district.get(f"/api/alerts/{alert_id}")["center_id"]
    officer = DutyClient.for_center(settings, home)
    case = officer.post(
        f"/api/alerts/{alert_id}/dispatch",
        {"department": _CASE_DEPARTMENT, "note": "演示：派单至公安"},
    )
    for to in _CASE_MOVES:
        case = officer.post(f"/api/cases/{case['case_id']}/moves", {"to": to})
    return {
        "case_id": case["case_id"],
        "alert_id": alert_id,
        "center": home,
        "state_label": case["state_label"],
        "steps": len(case["trail"]),
        "url": alert_service_url(settings) + "/",
        "accounts": settings.var / settings.section("alert_service").text("accounts_file"),
    }


def _routing_summary(settings: Settings) -> dict:
    """How the router read the lake's hotline events: versions, agreement with the category, flags."""
    import json
    from collections import Counter

    import pyarrow.dataset as ds

    lake = ds.dataset(settings.lake_table("normalized"), format="parquet", partitioning="hive")
    table = lake.to_table(
        columns=["category", "attributes_json"], filter=ds.field("source") == "hotline"
    )
    versions, reasons, agree, events = Counter(), Counter(), 0, 0
    for category, attributes in zip(
        table["category"].to_pylist(), table["attributes_json"].to_pylist(), strict=True
    ):
        routing = json.loads(attributes or "{}").get("routing")
        if routing is None:
            continue
        events += 1
        versions[routing["model_version"]] += 1
        agree += routing["category"] == category
        if routing["flagged"]:
            reasons[routing["flag_reason"]] += 1
    return {
        "events": events,
        "version": ", ".join(versions) or "none",
        "agree": agree,
        "flagged": sum(reasons.values()),
        "by_reason": dict(reasons),
    }


def _superset_check(settings: Settings) -> dict:
    from pipelines.harness.superset_api import SupersetClient

    client = SupersetClient.from_settings(settings)
    dashboard = client.dashboard_by_slug("zongzhi-overview")
    charts = client.dashboard_charts(dashboard["id"])
    graph = client.dashboard_by_slug("zongzhi-graph")
    return {
        "dashboard": dashboard["dashboard_title"],
        "charts": len(charts),
        "url": f"{settings.superset_url}/superset/dashboard/zongzhi-overview/",
        "graph_dashboard": graph["dashboard_title"],
        "graph_charts": len(client.dashboard_charts(graph["id"])),
        "graph_url": f"{settings.superset_url}/superset/dashboard/zongzhi-graph/",
    }


def run_demo(
    settings: Settings,
    *,
    hours: float,
    history_hours: float,
    speedup: float,
    seed: int,
    history_days: int = 15,
    end: datetime | None = None,
    superset: bool = True,
) -> str:
    """Run the platform end to end on a simulated district and return the summary.

    The live stream ends at ``end`` in event time (default: now), and the
    history comes before it.
    """
    from pipelines.harness.services import services_down, services_up
    from pipelines.harness.simulation_run import build_simulator
    from pipelines.harness.simulator.produce import produce_records, write_ground_truth

    started = time.monotonic()
    log.info("1/6 services up")
    services_up(settings, ["kafka", "postgres"] + (["superset"] if superset else []))

    log.info("2/6 fresh topics and lake")
    topics = settings.declared_topics
    # The alert service consumes the alerts topic: it is stopped while the
    # topics and its group are re-created, and started for the live stream.
    services_down(settings, ["alert-service"])
    fresh_streams(settings)
    shutil.rmtree(settings.lake, ignore_errors=True)
    _clear_alerts(settings)

    # Hotline messages are read by the router trained on the real reference
    # messages; it is trained once, on the first demo of a machine.
    reference = (settings.root / settings.section("hotline_routing")["reference_data"]).resolve()
    if not has_router(router_folder(settings)):
        log.info("2/6 training the hotline router on the reference messages")
        run_step(settings, "train", "classifier", "--json")
    # The 12345 reference the closed-loop dashboard compares the loop's timeliness with.
    run_step(
        settings, "replies", str(reference / "messages_with_replies.xlsx"), "--publish", "--json"
    )

    now = (end.astimezone(UTC) if end else datetime.now(UTC)).replace(microsecond=0)
    live_start = now - timedelta(hours=hours)
    history_start = live_start - timedelta(hours=history_hours)

    # Weeks before the history, written straight into the lake through the
    # real contract: what trend classes, week-on-week changes and the monthly
    # report need, at the district's usual rate.
    long_history = (
        backfill_lake(
            settings,
            settings.lake_table("normalized"),
            history_start - timedelta(days=history_days),
            history_days,
            rate=float(settings.simulator["events_per_hour"]),
            seed=seed + 2000,
        )
        if history_days
        else {"days": [], "events": 0, "seconds": 0.0}
    )
    log.info(
        "3/6 backfill: %d day(s) straight into the lake (%d events, %.0f s), then %.0f h of "
        "history → normalize → lake → nightly baselines → "
        "relation graph and watch list → hotspots",
        len(long_history["days"]),
        long_history["events"],
        long_history["seconds"],
        history_hours,
    )
    # The history and the live stream are two stretches of one district: the
    # same people, cars and rings (one population seed) in different events.
    history = build_simulator(
        settings,
        start=history_start,
        seed=seed + 1000,
        population_seed=seed,
        rings=_RINGS,
        ring_outings_per_day=_RING_OUTINGS_PER_DAY,
    )
    history_report = produce_records(
        settings, history.records(history_start, timedelta(hours=history_hours))
    )
    run_step(settings, "normalize")
    run_step(settings, "lake")
    first_nightly = run_step(settings, "nightly")
    first_graph = run_step(settings, "graph", timeout=1800)
    # The graph only proposes: the district's supervisor reviews and approves
    # in the alert service, which publishes the list the stream watches.
    services_up(settings, ["alert-service"])
    approved = _approve_proposals(settings)
    # The hotspot job backfills the history bounded (a day of disorder allowed),
    # so that the live job starts where the history ends, at the live allowance.
    run_step(settings, "hotspots")

    log.info("4/6 live: streaming jobs up, %.1f h of event time at %.0fx", hours, speedup)
    surge_offset_min = hours * 60 * 0.4
    probe = build_simulator(settings, start=live_start, seed=seed)
    surge_cell = probe.busiest_cells(_SURGE_CATEGORY, 1)[0]
    usual = probe.expected_rate(
        surge_cell, _SURGE_CATEGORY, live_start + timedelta(minutes=surge_offset_min)
    )
    multiplier = 1.0 + _SURGE_EXTRA_EVENTS / (max(usual, 1e-6) * _SURGE_MINUTES / 60.0)
    sim = build_simulator(
        settings,
        start=live_start,
        seed=seed,
        malformed_fraction=0.03,
        rings=_RINGS,
        ring_outings_per_day=_RING_OUTINGS_PER_DAY,
        surges=[(surge_cell, _SURGE_CATEGORY, surge_offset_min, _SURGE_MINUTES, multiplier)],
        incidents_per_day=_INCIDENTS_PER_DAY,
        incident_kinds=load_incident_fusion(settings)["incident_kinds"],
    )
    jobs = StreamingJobs(settings)
    try:
        jobs.start("normalize", "--follow")
        allowance = max(
            int(settings.hotspot["watermark_delay_seconds"]),
            math.ceil(speedup * _PROCESSING_DISORDER_WALL_S),
        )
        jobs.start("hotspots", "--follow", "--watermark-delay-seconds", str(allowance))
        jobs.start("lake", "--follow")
        time.sleep(15)  # let the Flink jobs come up before the stream starts
        jobs.check()
        live_report = produce_records(
            settings,
            sim.records(live_start, timedelta(hours=hours)),
            speedup=speedup,
            progress=lambda n: log.info("live: produced %d records", n),
        )
        truth = sim.ground_truth()
        write_ground_truth(settings.var / "simulations" / "demo-live.json", truth, live_report)
        _wait_caught_up(settings, jobs)
    finally:
        jobs.stop()

    log.info("5/6 nightly over the whole lake: counts and baselines, then the relation graph")
    nightly = run_step(settings, "nightly")
    graph = run_step(settings, "graph", timeout=1800)
    counts = topic_counts(settings, topics)
    surge = truth.surges[0]
    pg = _pg_counts(settings, surge.cell_id)
    routing = _routing_summary(settings)
    board = _superset_check(settings) if superset else None
    case = _file_one_case(settings, pg["surge_alert_id"])
    # The planners' monthly report of the month the stream ends in.
    report = monthly_report(
        settings, now.astimezone(DISTRICT_TZ).strftime("%Y-%m"), None, settings.var / "reports"
    )

    log.info("6/6 summary")
    produced = history_report["produced"] + live_report["produced"]
    lines = [
        "",
        "zongzhi demo — 密云区 simulated district",
        f"  produced        {produced:>8}  (history {history_report['produced']}, "
        f"live {live_report['produced']}: {live_report['by_channel']})",
        f"  normalized      {counts[settings.topic('normalized')]:>8}",
        f"  dead-lettered   {counts[settings.topic('dead_letter')]:>8}  "
        f"(planted malformed: {live_report['malformed_by_kind']})",
        f"  balance         produced = normalized + dead-lettered: "
        f"{produced == counts[settings.topic('normalized')] + counts[settings.topic('dead_letter')]}",
        f"  late events     {counts.get(settings.topic('late'), 0):>8}  behind the hotspot job's "
        f"watermark, which allows {allowance} s of event-time disorder at {speedup:g}x "
        f"(kept in zz.events.late and the lake)",
        f"  lake events     {nightly['events']:>8}  over {nightly['days']} day(s) "
        f"({long_history['events']} of them backfilled over {len(long_history['days'])} "
        "day(s) before the history)",
        f"  baselines       {nightly['baseline_rows']:>8}  cell × category rates "
        f"(first nightly: {first_nightly['baseline_rows']})",
        f"  incident links  {counts[settings.topic('incident_links')]:>8}  reports that joined "
        f"an earlier report's incident across channels, counted once by the hotspot job "
        f"({_INCIDENTS_PER_DAY:g} multi-channel incidents a day planted live)",
        f"  alerts          {pg['alerts']:>8}  clusters in PostgreSQL, {pg['updates']} updates "
        f"({counts[settings.topic('alerts')]} on the alerts topic)",
        f"  planted surge   {surge.cell_id} {surge.category} ×{surge.multiplier:.0f} "
        f"(~{_SURGE_EXTRA_EVENTS:.0f} events over the usual {usual * _SURGE_MINUTES / 60:.2f}) "
        f"{surge.start:%H:%M}–{surge.end:%H:%M} UTC: "
        f"{'detected, ' + str(pg['surge_alerts']) + ' cluster(s)' if pg['surge_alerts'] else 'NOT detected'}",
        f"  daily counts    {pg['daily_count_events']:>8}  events in serving.daily_counts",
        f"  graph           {graph['persons']:>8}  persons, {graph['vehicles']} vehicles "
        f"({sum(v for k, v in graph['plates_joined'].items() if k not in ('exact', 'unreadable', 'ambiguous'))} "
        f"misread plates joined), {graph['communities']} communities, "
        f"{graph['companion_pairs']} companion vehicle pair(s) (planted rings: {len(truth.rings)})",
        f"  watch list      {sum(first_graph['watched_vehicles'].values()):>8}  vehicles of "
        f"{first_graph['key_persons']} key persons proposed by the history's graph, "
        f"{approved['approved']} approved by {approved['by']} "
        f"({first_graph['watched_vehicles']})",
        f"  watch alerts    {pg['watch_alerts']:>8}  at sensitive checkpoints "
        f"({pg['watch_reads']} reads of {pg['watch_vehicles']} watched vehicle(s))"
        + (f": {pg['first_watch_alert']}" if pg["first_watch_alert"] else ""),
    ]
    lines.append(
        f"  hotline routed  {routing['events']:>8}  messages read by router {routing['version']}: "
        f"{routing['agree']} agree with the dispatcher's category, {routing['flagged']} "
        f"flagged for a dispatcher ({routing['by_reason']})"
    )
    if board:
        lines.append(f"  dashboard       {board['dashboard']} ({board['charts']} charts)")
        lines.append(
            f"  dashboard       {board['graph_dashboard']} ({board['graph_charts']} "
            f"charts): {board['graph_url']}"
        )
        lines.append(
            f"  Superset        {board['url']}  (user "
            f"{settings.section('superset')['admin_user']}, password in "
            f"{settings.var / 'secrets' / 'superset.admin.password'})"
        )
    if case:
        lines.append(
            f"  case            {case['case_id']} for alert {case['alert_id']} at center "
            f"{case['center']}: dispatched to {_CASE_DEPARTMENT}, {case['state_label']} "
            f"after {case['steps']} recorded steps"
        )
    lines.append(
        f"  live page       {alert_service_url(settings)}/  (one account per center; "
        f"passwords in {settings.var / settings.section('alert_service').text('accounts_file')})"
    )
    lines.append(f"  monthly report  {report['html']} (and .pdf): {report['narrative'][:60]}…")
    lines.append(f"  PostgreSQL      {settings.pg_jdbc_url()} (schema {settings.pg['schema']})")
    lines.append(f"  Kafka           {settings.kafka_bootstrap}")
    lines.append(f"  took            {time.monotonic() - started:.0f} s")
    return "\n".join(lines)
