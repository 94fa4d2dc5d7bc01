"""Run the district simulator into Kafka: the ``zongzhi simulate`` command."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from features.taxonomy import CATEGORIES
from pipelines.errors import UsageError
from pipelines.harness.simulator.generate import DistrictSimulator, Surge
from pipelines.harness.simulator.produce import produce_records, write_ground_truth
from pipelines.io.platform_state import load_district, load_incident_fusion
from pipelines.settings import Settings

__all__ = ["build_simulator", "simulate_to_kafka"]

log = logging.getLogger(__name__)


def build_simulator(
    settings: Settings,
    *,
    start: datetime,
    seed: int,
    rate: float | None = None,
    malformed_fraction: float | None = None,
    surges=(),
    rings: int = 0,
    district=None,
    population_seed: int | None = None,
    ring_outings_per_day: float | None = None,
    incidents_per_day: float = 0.0,
    incident_kinds=None,
) -> DistrictSimulator:
    """A simulator from the config, with surges given as
    ``(cell or 'busiest', category, start_min, duration_min, multiplier)``.

    ``population_seed`` (default ``seed``) draws the people, cars and rings;
    ``ring_outings_per_day`` defaults to the simulator's.
    """
    district = district or load_district(settings)
    sim_cfg = settings.simulator
    common = dict(
        seed=seed,
        events_per_hour=rate or float(sim_cfg["events_per_hour"]),
        channel_mix=dict(sim_cfg["channel_mix"]),
        malformed_fraction=(
            float(sim_cfg["malformed_fraction"])
            if malformed_fraction is None
            else malformed_fraction
        ),
        n_rings=rings,
        run_id=f"s{seed}",
        population_seed=population_seed,
        identity_noise=dict(sim_cfg.get("identity_noise") or {}),
        incidents_per_day=incidents_per_day,
        incident_kinds=incident_kinds,
    )
    if ring_outings_per_day is not None:
        common["ring_outings_per_day"] = ring_outings_per_day
    planted = []
    probe = None
    for cell, category, start_min, duration_min, multiplier in surges:
        if category not in CATEGORIES:
            raise UsageError(
                f"surge category {category!r} is not in the taxonomy; allowed: "
                + ", ".join(sorted(CATEGORIES))
            )
        if multiplier <= 1:
            raise UsageError(f"surge multiplier {multiplier} must be > 1")
        if cell == "busiest":
            probe = probe or DistrictSimulator(district, **common)
            cell = probe.busiest_cells(category, 1)[0]
        else:
            district.grid.center_of(cell)  # raises ValueError naming a malformed cell id
        begin = start + timedelta(minutes=start_min)
        planted.append(
            Surge(
                cell_id=cell,
                category=category,
                start=begin,
                end=begin + timedelta(minutes=duration_min),
                multiplier=multiplier,
            )
        )
    return DistrictSimulator(district, surges=tuple(planted), **common)


def simulate_to_kafka(
    settings: Settings,
    *,
    hours: float,
    start: datetime | None = None,
    rate: float | None = None,
    malformed_fraction: float | None = None,
    seed: int = 1,
    surges=(),
    rings: int = 0,
    speedup: float | None = None,
    ground_truth_path: str | Path | None = None,
    incidents_per_day: float = 0.0,
) -> dict:
    """Produce a simulated stream; return counts and the planted ground truth.

    ``incidents_per_day`` plants incidents that several channels report, of
    the kinds in ``incident_fusion.file``.
    """
    now = datetime.now(UTC)
    start = start or (now - timedelta(hours=hours))
    sim = build_simulator(
        settings,
        start=start,
        seed=seed,
        rate=rate,
        malformed_fraction=malformed_fraction,
        surges=surges,
        rings=rings,
        incidents_per_day=incidents_per_day,
        incident_kinds=load_incident_fusion(settings)["incident_kinds"]
        if incidents_per_day
        else None,
    )
    log.info("simulating %.1f h of event time from %s", hours, start.isoformat())
    report = produce_records(
        settings,
        sim.records(start, timedelta(hours=hours)),
        speedup=speedup,
        progress=lambda n: log.info("produced %d records", n),
    )
    truth = sim.ground_truth()
    path = (
        Path(ground_truth_path)
        if ground_truth_path
        else (settings.var / "simulations" / f"seed{seed}-{start:%Y%m%dT%H%M%S}.json")
    )
    write_ground_truth(path, truth, report)
    return {
        **report,
        "ground_truth_file": str(path),
        "surges": truth.to_dict()["surges"],
        "start": start.isoformat(),
        "hours": hours,
    }
