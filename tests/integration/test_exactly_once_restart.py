"""Kill the normalization and hotspot jobs mid-stream; restarted from their checkpoints,
they leave the alerts topic (read committed) and PostgreSQL exactly as an undisturbed run.

One fixed event set (a simulated district with a surge planted 90 to 150
minutes into a 4-hour stream) goes through the streaming jobs twice: once
undisturbed, once with both jobs killed (SIGKILL, no clean-up) and started
again without ``--fresh``. Checkpoints every 2 s keep the run short.

Both runs take the records in the same stages, so that they see the same
watermarks:

1. the records of events before the cut (114 min into the stream), then,
   once they are normalized, a few records 6 h later: the watermark (6 h
   behind the newest event) passes the window ending 110 min in, and the
   windows up to it fire. The surge's cluster is raised and updated; its
   alerts are committed (read committed) and stored in PostgreSQL, and a
   later checkpoint holds it open in the lifecycle state;
2. the first half of the records after the cut; in the killed run, once
   both jobs have completed a checkpoint with it, the second half, and at
   once the kill: the normalization job with records and transactions in
   flight, the hotspot job with window counts in state and the cluster
   open in its lifecycle state. Restarted from their checkpoints, the
   jobs read on;
3. events 7 h after the stream, which close its windows: the cluster is
   updated and ended by the restarted job.

Neither run has a late event (the cut and the watermark leave 4 minutes
between them). The killed run's alerts equal the undisturbed run's as
multisets, payloads included (the processing time aside); no cluster is
raised twice, none repeats an update; PostgreSQL's alert tables hold the
same rows.
"""

from __future__ import annotations

import copy
import logging
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from models.hotspot_alerts import local_iso
from pipelines.harness.demo import StreamingJobs
from pipelines.harness.restart_check import (
    alert_difference,
    checkpoint_id,
    clear_stored_alerts,
    clusters_across,
    committed_alerts,
    lifecycle_faults,
    routed,
    stored_alerts,
    wait_drained,
    wait_for,
    wait_normalized,
)
from pipelines.harness.simulation_run import build_simulator
from pipelines.harness.simulator.produce import produce_records
from pipelines.harness.steps import run_step
from pipelines.harness.streams import fresh_streams
from pipelines.io.kafka_consume import consume_topic_values
from pipelines.io.kafka_security import ADMIN
from pipelines.io.platform_state import pseudonym_key
from pipelines.settings import load_settings
from pipelines.streaming import hotspot_job, normalize_job

from .conftest import district_settings

pytestmark = pytest.mark.integration

_CATEGORY = "public_order.petty_theft"
_START = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
_HOURS = 4
# 60 x the background in one cell, from 90 to 150 minutes into the stream.
_SURGE_START_MIN, _SURGE_MINUTES = 90, 60
# The windows ending up to here fire before the kill, while the surge goes on.
_FIRED_UNTIL = _START + timedelta(minutes=110)
# Records of events before the cut come before the kill; the watermark stops
# between the last window end that fires and the cut.
_CUT = _FIRED_UNTIL + timedelta(minutes=4)
# Far more than the normalized stream's disorder (reports arrive up to hours after
# their events): no event is late in either run, so both runs score the same windows.
_WATERMARK_DELAY_S = 6 * 3600
# Events this long after the stream move the watermark past all of its windows.
_CLOSING_AFTER = timedelta(hours=7)
_JOBS = (normalize_job.GROUP_ID, hotspot_job.GROUP_ID)
log = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def quick_settings(settings, tmp_path_factory, monkeypatch_module):
    """The settings with checkpoints every 2 s, through a config file of their own.

    The lake is an empty folder of their own: the hotspot job scores against
    the fallback baselines, not against whatever nightly baselines an earlier
    run left in ``var/lake`` (a small lake's once raised no alert at all).
    """
    raw = copy.deepcopy(settings.raw)
    raw["flink"]["checkpoint_interval_seconds"] = 2
    path = tmp_path_factory.mktemp("config") / "zongzhi.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    monkeypatch_module.setenv("ZONGZHI_CONFIG", str(path))
    monkeypatch_module.setenv("ZONGZHI_VAR", str(settings.var))
    monkeypatch_module.setenv("ZONGZHI_LAKE", str(tmp_path_factory.mktemp("lake")))
    quick = load_settings()
    assert quick.section("flink").integer("checkpoint_interval_seconds") == 2
    return quick


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@dataclass(frozen=True)
class Events:
    surge_cell: str
    first: list  # events before the cut
    advance: list  # 6 h later: the watermark passes _FIRED_UNTIL, not the cut
    second: list  # events from the cut to the stream's end
    closing: list  # 7 h after the stream's end

    @property
    def produced(self) -> int:
        return len(self.first) + len(self.advance) + len(self.second) + len(self.closing)


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


@pytest.fixture(scope="module")
def events(quick_settings):
    settings = district_settings()
    pseudonym_key(settings, create=True)
    end = _START + timedelta(hours=_HOURS)
    probe = build_simulator(settings, start=_START, seed=21)
    cell = probe.busiest_cells(_CATEGORY, 1)[0]
    sim = build_simulator(
        settings,
        start=_START,
        seed=21,
        surges=[(cell, _CATEGORY, _SURGE_START_MIN, _SURGE_MINUTES, 60.0)],
    )
    records = list(sim.records(_START, timedelta(hours=_HOURS)))
    # Newest event of the advance just under the cut + the delay, in every
    # partition of the normalized topic (some 27 events in its last 4 minutes).
    advance_end = _CUT + timedelta(seconds=_WATERMARK_DELAY_S)
    advance_start = advance_end - timedelta(minutes=10)
    advance = list(
        build_simulator(settings, start=advance_start, seed=23).records(
            advance_start, timedelta(minutes=10)
        )
    )
    closing = build_simulator(settings, start=end + _CLOSING_AFTER, seed=22)
    split = Events(
        surge_cell=cell,
        first=[r for r in records if r.event_time_ms < _ms(_CUT)],
        advance=advance,
        second=[r for r in records if r.event_time_ms >= _ms(_CUT)],
        closing=list(closing.records(end + _CLOSING_AFTER, timedelta(minutes=10))),
    )
    last_minutes = [
        r for r in advance if r.event_time_ms >= _ms(advance_end - timedelta(minutes=4))
    ]
    assert len(last_minutes) >= 10, len(last_minutes)
    return split


def _start(jobs: StreamingJobs, *extra: str) -> None:
    jobs.start("normalize", "--follow", *extra)
    jobs.start("hotspots", "--follow", "--watermark-delay-seconds", str(_WATERMARK_DELAY_S), *extra)


def _keep_logs_of_the_killed_jobs(settings) -> None:
    """Copy each killed job's log beside it (``demo-<job>.killed.log``): a restart rewrites it."""
    for name in ("normalize", "hotspots"):
        log_path = settings.var / "log" / f"demo-{name}.log"
        if log_path.exists():
            shutil.copyfile(log_path, log_path.with_suffix(".killed.log"))


def _run(settings, events: Events, *, kill: bool) -> dict:
    fresh_streams(settings)
    clear_stored_alerts(settings)
    jobs = StreamingJobs(settings)
    killed_at = None
    half = len(events.second) // 2
    try:
        _start(jobs, "--fresh")
        log.info("run (kill=%s): jobs started", kill)
        produce_records(settings, events.first)
        # All of the first part is in the normalized topic before the advance,
        # so none of it can fall behind the watermark the advance moves.
        assert wait_normalized(settings, jobs, len(events.first)) == len(events.first)
        produce_records(settings, events.advance)
        assert wait_drained(settings, jobs) == len(events.first) + len(events.advance)
        log.info("first part drained")
        fired = committed_alerts(settings)
        run_step(settings, "store-alerts")
        stored_before = stored_alerts(settings)
        produce_records(settings, events.second[:half])
        if kill:
            marks = {group: checkpoint_id(settings, group) for group in _JOBS}
            routed_before = routed(settings)
            wait_for(
                lambda: (
                    all(checkpoint_id(settings, group) > marks[group] for group in _JOBS)
                    and routed(settings) > routed_before
                ),
                jobs,
                "a checkpoint of both jobs with progress into the second part",
            )
            produce_records(settings, events.second[half:])
            killed_at = {group: checkpoint_id(settings, group) for group in _JOBS}
            jobs.kill("normalize")
            jobs.kill("hotspots")
            _keep_logs_of_the_killed_jobs(settings)
            _start(jobs)  # no --fresh: from their checkpoints
            log.info("killed at %s and restarted", killed_at)
        else:
            produce_records(settings, events.second[half:])
        balance = wait_drained(settings, jobs)
        assert balance == len(events.first) + len(events.advance) + len(events.second)
        log.info("second part drained")
        # Only now the events that close the windows: none of the stream is late.
        produce_records(settings, events.closing)
        assert wait_drained(settings, jobs) == events.produced
        # Zero lag and two checkpoints do not bound when the watermark moves:
        # wait for the surge's cluster to end, then for the checkpoint after.
        waited = wait_for(
            lambda: _surge_ended(committed_alerts(settings), events.surge_cell),
            jobs,
            "the surge's cluster to end on the alerts topic",
            timeout_s=600,
        )
        mark = checkpoint_id(settings, hotspot_job.GROUP_ID)
        wait_for(
            lambda: checkpoint_id(settings, hotspot_job.GROUP_ID) > mark,
            jobs,
            "one more hotspot checkpoint",
        )
        log.info("the surge's cluster ended %.0f s after the closing records drained", waited)
    finally:
        jobs.stop()
    log.info("closing drained, jobs stopped")
    run_step(settings, "store-alerts")
    return {
        "fired": fired,
        "stored_before": stored_before,
        "alerts": committed_alerts(settings),
        "late": consume_topic_values(settings, settings.topic("late"), principal=ADMIN),
        "pg": stored_alerts(settings),
        "killed_at": killed_at,
    }


def _surge_ended(alerts: list[dict], cell: str) -> bool:
    return any(
        a["status"] == "ended" and a["category"] == _CATEGORY and cell in a["cells"] for a in alerts
    )


def _surge_clusters(alerts: list[dict], cell: str) -> set[str]:
    return {
        a["alert_id"]
        for a in alerts
        if a["status"] == "new"
        and a["category"] == _CATEGORY
        and cell in a["cells"]
        and a.get("scale", "minutes") == "minutes"  # the longer scales' clusters are others
    }


def test_killed_jobs_resume_from_their_checkpoints_with_nothing_lost_or_doubled(
    quick_settings, events
):
    settings = quick_settings
    undisturbed = _run(settings, events, kill=False)
    killed = _run(settings, events, kill=True)

    assert all(n > 0 for n in killed["killed_at"].values()), killed["killed_at"]
    assert undisturbed["late"] == killed["late"] == []

    # What fired before the kill: the windows up to _FIRED_UNTIL, the surge's
    # cluster among them, raised after the surge began.
    fired = killed["fired"]
    assert alert_difference(undisturbed["fired"], fired) == {"missing": [], "extra": []}
    assert max(a["updated_window_end"] for a in fired) == local_iso(_FIRED_UNTIL.timestamp())
    surge = _surge_clusters(fired, events.surge_cell)
    assert len(surge) == 1, surge
    (cluster,) = surge
    raised = next(a for a in fired if a["alert_id"] == cluster and a["status"] == "new")
    surge_start = _START + timedelta(minutes=_SURGE_START_MIN)
    assert local_iso(surge_start.timestamp()) < raised["updated_window_end"]

    # It stayed open across the kill, and the restarted job updated and ended it.
    after = [
        a for a in killed["alerts"] if a["updated_window_end"] > local_iso(_FIRED_UNTIL.timestamp())
    ]
    assert cluster in clusters_across(fired, after), (
        f"{cluster} was not updated after the kill: of {len(killed['alerts'])} alerts "
        f"committed (undisturbed: {len(undisturbed['alerts'])}), {len(after)} are of windows "
        f"after {_FIRED_UNTIL:%H:%M}; the jobs' logs: {settings.var / 'log'}/demo-*.log"
    )
    statuses = [
        a["status"]
        for a in sorted(after, key=lambda a: a["updated_window_end"])
        if a["alert_id"] == cluster
    ]
    assert len(statuses) >= 2 and statuses[-1] == "ended", statuses
    assert "new" not in statuses
    assert Counter(a["alert_id"] for a in fired)[cluster] >= 2  # it had been updated already

    # The whole runs: the same alerts, payloads included; each cluster raised once.
    assert lifecycle_faults(undisturbed["alerts"]) == []
    assert lifecycle_faults(killed["alerts"]) == []
    assert alert_difference(undisturbed["alerts"], killed["alerts"]) == {
        "missing": [],
        "extra": [],
    }
    clusters = {a["alert_id"] for a in killed["alerts"]}
    log.info(
        "%d alerts of %d clusters, %d fired before the kill; %s updated across it: %s",
        len(killed["alerts"]),
        len(clusters),
        len(fired),
        cluster,
        statuses,
    )
    assert Counter(a["status"] for a in killed["alerts"])["new"] == len(clusters)

    # PostgreSQL: the same rows before the kill and at the end, one per cluster
    # and one per update.
    assert killed["stored_before"] == undisturbed["stored_before"]
    assert len(killed["stored_before"]["alerts"]) == len({a["alert_id"] for a in fired})
    assert killed["pg"] == undisturbed["pg"]
    assert len(killed["pg"]["alerts"]) == len(clusters)
    assert len(killed["pg"]["alert_updates"]) == len(killed["alerts"])
