"""Deterministic generator of raw events for the three channels, with ground truth.

The simulator stands in for the grid app, the hotline and the video tier.
It writes nothing: :meth:`DistrictSimulator.records` yields
:class:`SimulatedRecord` values (a Kafka key and a JSON value in the raw
envelope v1) in report-time order, and :meth:`DistrictSimulator.ground_truth`
says what was planted: surges in a cell and category, and rings of people
and vehicles that keep appearing together.

The background model (:mod:`~pipelines.harness.simulator.background`) says
how often each category happens in each cell; arrivals are a Poisson
process, piecewise constant per hour.

**Delays.** Report time − event time is uniform in 0–300 s (grid),
60–600 s (hotline) and 0–3 s (video).

Every random draw comes from a private :class:`random.Random` seeded from
``seed`` and the name of the component (background per channel, each surge,
each ring, malformation), so adding a surge leaves the background events
unchanged.

The pieces live in their own modules: the value types in
:mod:`~pipelines.harness.simulator.records`, the checks of the parameters in
:mod:`~pipelines.harness.simulator.parameters`, the background rates in
:mod:`~pipelines.harness.simulator.background`, the people and vehicles in
:mod:`~pipelines.harness.simulator.populations`, each kind of event in
:mod:`~pipelines.harness.simulator.events`, the channel payloads in
:mod:`~pipelines.harness.simulator.payloads`, and the envelope and its defects in
:mod:`~pipelines.harness.simulator.envelope` and :mod:`~pipelines.harness.simulator.defects`.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from functools import cached_property

from features.geography import District, Site
from features.taxonomy import CATEGORIES_BY_SOURCE, SOURCES
from pipelines.harness.simulator.background import BackgroundModel
from pipelines.harness.simulator.envelope import Emitter
from pipelines.harness.simulator.events import EventMaker
from pipelines.harness.simulator.noise import IdentityNoise
from pipelines.harness.simulator.parameters import (
    DEFAULT_CHANNEL_MIX,
    check_parameters,
    check_surges,
    source_of,
)
from pipelines.harness.simulator.payloads import EventPayloads
from pipelines.harness.simulator.populations import (
    Resident,
    plant_rings,
    vehicle_plates,
    village_residents,
)
from pipelines.harness.simulator.records import (
    GroundTruth,
    PlantedIncident,
    Ring,
    SimulatedRecord,
    Surge,
)
from pipelines.harness.simulator.rhythms import REPORT_DELAY_S, epoch_s, local_hour_weekday
from pipelines.harness.simulator.sampling import arrivals, cumulative, pick

# The value types are re-exported: callers import ``Surge`` from here.
__all__ = [
    "DEFAULT_CHANNEL_MIX",
    "DistrictSimulator",
    "GroundTruth",
    "Ring",
    "SimulatedRecord",
    "Surge",
]

#: Average outings of each ring a day, by default.
RING_OUTINGS_PER_DAY = 4.0


class DistrictSimulator:
    """Generate raw events for a district, with planted surges and rings.

    Parameters
    ----------
    district : District
        The district model (see :func:`features.geography.build_district`).
    seed : int
        Seed of every random draw; the same arguments give the same records.
    events_per_hour : float, default 400
        Long-run average rate over all channels (config ``simulator``).
    channel_mix : mapping of str to float, optional
        Share of each channel, summing to 1; defaults to the config's
        ``{"grid": 0.45, "hotline": 0.25, "video": 0.30}``.
    malformed_fraction : float, default 0
        Fraction of records to corrupt; exactly ``floor(n × fraction)`` of
        the first ``n`` records are malformed, spread evenly, and the defect
        kinds rotate through :data:`MALFORMED_KINDS`.
    surges : sequence of Surge
        Surges to plant on top of the background.
    n_rings : int, default 0
        Number of rings to plant, each around its own village.
    ring_size : int, default 4
        People per ring; each ring also has 2–3 vehicles (at least two, so
        they can be seen travelling together).
    run_id : str, optional
        Tag put into every event id (``grid-<run_id>-20261127-000001``) so
        that several runs written to the same topics never share an id; by
        default ids are ``grid-20261127-000001``, unique within one run only.
    ring_outings_per_day : float, default 4
        Average outings of each ring a day (a convoy past one of its LPR
        sites, often with an incident), shaped like the grid channel's day.
    population_seed : int, optional
        Seed of the population alone: residents, vehicles and rings (by
        default ``seed``). Two runs with one population seed and different
        seeds are two stretches of one district's life: the same people and
        cars, and the same rings, in different events.
    incidents_per_day : float, default 0
        Incidents planted a day (shaped like the grid channel's day) that
        several channels report: a grid report, often a hotline call, and
        sometimes a camera alarm, close in space and time (see
        :meth:`EventMaker.incident`). Each report's :attr:`SimulatedRecord.truth`
        names its incident (``"incident"``), the ground truth of fusion.
    incident_kinds : mapping, optional
        Kind → ``{channel: category}`` of the planted incidents (the fusion
        file's ``incident_kinds``); every kind has a grid category. Required
        with ``incidents_per_day``.
    identity_noise : mapping, optional
        Rates ``name_typo``, ``phone_typo`` and ``plate_misread`` of
        :class:`~pipelines.harness.simulator.noise.IdentityNoise` (config
        ``simulator.identity_noise``); none by default. The truth of every
        record's entries is in :attr:`SimulatedRecord.truth` either way.

    Notes
    -----
    The constructor only stores its arguments; they are checked, and the
    model is built, on first use.

    Examples
    --------
    >>> from features.geography import build_district
    >>> rows = [{"name": "鼓楼街道", "kind": "街道", "approx_lat": 40.376, "approx_lon": 116.845}]
    >>> district = build_district(rows, code="110118", name="密云区", seed=1,
    ...     villages_per_town=3, cell_size_m=1000, origin_lon=116.55, origin_lat=40.15,
    ...     max_village_distance_m=9000, n_cameras=2, n_lpr_sites=1, n_gas_stations=1)
    >>> sim = DistrictSimulator(district, seed=7, events_per_hour=100)
    >>> start = datetime.fromisoformat("2026-11-27T09:00:00+08:00")
    >>> records = list(sim.records(start, timedelta(minutes=30)))
    >>> all(a.report_time_ms <= b.report_time_ms for a, b in zip(records, records[1:]))
    True
    >>> records == list(DistrictSimulator(district, seed=7, events_per_hour=100)
    ...                 .records(start, timedelta(minutes=30)))
    True
    """

    def __init__(
        self,
        district: District,
        *,
        seed: int,
        events_per_hour: float = 400.0,
        channel_mix: Mapping[str, float] | None = None,
        malformed_fraction: float = 0.0,
        surges=(),
        n_rings: int = 0,
        ring_size: int = 4,
        run_id: str | None = None,
        identity_noise: Mapping[str, float] | None = None,
        population_seed: int | None = None,
        ring_outings_per_day: float = RING_OUTINGS_PER_DAY,
        incidents_per_day: float = 0.0,
        incident_kinds: Mapping[str, Mapping[str, str]] | None = None,
    ):
        self.district = district
        self.seed = seed
        self.population_seed = seed if population_seed is None else population_seed
        self.ring_outings_per_day = ring_outings_per_day
        self.events_per_hour = events_per_hour
        self.channel_mix = channel_mix
        self.malformed_fraction = malformed_fraction
        self.surges = surges
        self.n_rings = n_rings
        self.ring_size = ring_size
        self.run_id = run_id
        self.identity_noise = dict(identity_noise or {})
        self.incidents_per_day = incidents_per_day
        self.incident_kinds = {k: dict(v) for k, v in (incident_kinds or {}).items()}

    # ------------------------------------------------------------ validation

    def _rng(self, component: str) -> random.Random:
        # A string seed is hashed with SHA-512 by random.Random: stable
        # across runs and independent of PYTHONHASHSEED.
        return random.Random(f"{self.seed}:{component}")

    def _population_rng(self, component: str) -> random.Random:
        return random.Random(f"{self.population_seed}:{component}")

    @cached_property
    def _mix(self) -> dict[str, float]:
        return check_parameters(
            self.district,
            events_per_hour=self.events_per_hour,
            channel_mix=self.channel_mix,
            malformed_fraction=self.malformed_fraction,
            n_rings=self.n_rings,
            ring_size=self.ring_size,
            run_id=self.run_id,
            ring_outings_per_day=self.ring_outings_per_day,
        )

    @cached_property
    def _surges(self) -> tuple[tuple[Surge, int, int], ...]:
        return check_surges(self.surges, self.district.grid)

    def _validate(self) -> None:
        """Check every parameter (building the lazily cached pieces that do so)."""
        for name in ("_mix", "_surges", "_rings"):
            getattr(self, name)
        if self.incidents_per_day < 0 or (self.incidents_per_day and not self.incident_kinds):
            raise ValueError(
                f"incidents_per_day={self.incidents_per_day!r} must be >= 0, and needs incident_kinds"
            )
        for kind, channels in self.incident_kinds.items():
            if "grid" not in channels or any(
                source_of(category) != channel for channel, category in channels.items()
            ):
                raise ValueError(
                    f"incident kind {kind!r}: {channels} must give a grid category and each "
                    "channel a category of its own"
                )

    # ------------------------------------------------------------ the model

    @cached_property
    def _model(self) -> BackgroundModel:
        return BackgroundModel(self.district, self.events_per_hour, self._mix)

    def base_rate(self, cell_id: str, category: str) -> float:
        """Expected events per hour of ``category`` in ``cell_id``, averaged over the week.

        The rate at a given moment is this times the channel's hour-of-day and
        day-of-week factors (see :meth:`expected_rate`).

        Raises
        ------
        ValueError
            If the cell id is malformed or the category is not in the taxonomy.
        """
        self.district.grid.row_col(cell_id)
        return self._cell_rates(category).get(cell_id, 0.0)

    def _cell_rates(self, category: str) -> dict[str, float]:
        source_of(category)  # a bad category is named before any other parameter
        return self._model.cell_rates(category)

    def expected_rate(self, cell_id: str, category: str, at: datetime) -> float:
        """Expected events per hour of ``category`` in ``cell_id`` at the moment ``at``."""
        base = self.base_rate(cell_id, category)
        hour, weekday = local_hour_weekday(epoch_s(at, "at"))
        hours, days = self._model.profiles[source_of(category)]
        return base * hours[hour] * days[weekday]

    def cell_rates(self, category: str) -> dict[str, float]:
        """:meth:`base_rate` of every cell where ``category`` can happen (the others: 0)."""
        return dict(self._cell_rates(category))

    def week_factors(self) -> dict[tuple[str, int], float]:
        """``(channel, hour of the week) -> factor``: the hour-of-day times the day-of-week factor.

        The rate of a cell at a moment is its :meth:`base_rate` times this,
        Monday 00:00 being hour 0, as :func:`features.baselines.hour_of_week`
        counts; the factors average 1 over the week.
        """
        return {
            (source, day * 24 + hour): hours[hour] * days[day]
            for source, (hours, days) in self._model.profiles.items()
            for day in range(7)
            for hour in range(24)
        }

    def busiest_cells(self, category: str, n: int) -> list[str]:
        """The ``n`` cells with the highest :meth:`base_rate` for ``category`` (ties by id)."""
        rates = self._cell_rates(category)
        return sorted(rates, key=lambda cell: (-rates[cell], cell))[:n]

    # ------------------------------------------------------------ populations

    @cached_property
    def _residents(self) -> list[list[Resident]]:
        """People living in each village; events draw their persons from here."""
        return village_residents(self.district, self._population_rng("residents"))

    @cached_property
    def _plates(self) -> tuple[list[str], list[float]]:
        """Vehicle plates: village-owned first, then transit; with read weights."""
        return vehicle_plates(self._population_rng("vehicles"), len(self.district.villages))

    @cached_property
    def _rings(self) -> tuple[tuple[Ring, int, tuple[Site, ...]], ...]:
        """Each ring with its home village index and its two LPR sites."""
        self._mix  # noqa: B018 - checks n_rings and ring_size first
        if self.n_rings == 0:
            return ()
        return plant_rings(
            self._population_rng("rings"),
            self.n_rings,
            self.ring_size,
            self._residents,
            self._plates[0],
            self._model.village_xy,
            self.district.grid,
            self.district.sites_of_kind("lpr"),
        )

    def ground_truth(self) -> GroundTruth:
        """Return the planted surges and rings."""
        return GroundTruth(
            surges=tuple(s for s, _, _ in self._surges), rings=tuple(r for r, _, _ in self._rings)
        )

    @cached_property
    def _events(self) -> EventMaker:
        payloads = EventPayloads(self.district, self._residents, self._plates)
        return EventMaker(self._model, payloads, self._residents, self._rings)

    # ------------------------------------------------------------ the stream

    def records(self, start: datetime, duration: timedelta) -> Iterator[SimulatedRecord]:
        """Yield the records of events occurring in ``[start, start + duration)``.

        Records come in report-time order (ties in generation order); times
        are whole seconds.  Event ids are ``"{source}-{yyyymmdd}-{n:06d}"``
        (``"{source}-{run_id}-{yyyymmdd}-{n:06d}"`` with a ``run_id``), the
        date being the event's local date and ``n`` counting each channel's
        records in stream order from 1; the record key is the event id.

        Raises
        ------
        ValueError
            If ``start`` is naive, ``duration`` is negative, or a parameter of
            the simulator is invalid.
        """
        start_s = epoch_s(start, "start")
        if not isinstance(duration, timedelta) or duration < timedelta(0):
            raise ValueError(f"duration={duration!r} must be a timedelta >= 0")
        self._validate()  # now, not at the first next()
        return self._stream(start_s, start_s + math.floor(duration.total_seconds()))

    def _stream(self, start_s: int, end_s: int) -> Iterator[SimulatedRecord]:
        noise = (
            IdentityNoise(self._rng("identity-noise"), **self.identity_noise)
            if self.identity_noise
            else None
        )
        emitter = Emitter(self.malformed_fraction, self._rng("malformed"), self.run_id, noise)
        model, events = self._model, self._events
        pending: list = []
        sequence = 0

        def push(event_s: int, source: str, payload: dict, delay_rng: random.Random):
            nonlocal sequence
            if start_s <= event_s < end_s:
                lo, hi = REPORT_DELAY_S[source]
                sequence += 1
                heapq.heappush(
                    pending,
                    (event_s + delay_rng.randint(lo, hi), sequence, event_s, source, payload),
                )

        background = {s: self._rng(f"background:{s}") for s in SOURCES}
        surge_rngs = [self._rng(f"surge:{i}") for i in range(len(self._surges))]
        ring_rngs = [self._rng(f"ring:{i}") for i in range(len(self._rings))]
        incident_rng, kinds, planted = self._rng("incidents"), sorted(self.incident_kinds), 0
        category_lists = {s: sorted(CATEGORIES_BY_SOURCE[s]) for s in SOURCES}
        category_cums = {
            s: cumulative(model.category_rates[c] for c in category_lists[s]) for s in SOURCES
        }

        hour_start = start_s - (start_s % 3600)
        while hour_start < end_s:
            lo, hi = max(hour_start, start_s), min(hour_start + 3600, end_s)
            hour, weekday = local_hour_weekday(hour_start)
            for source in SOURCES:
                hours, days = model.profiles[source]
                rate_s = (
                    self.events_per_hour * self._mix[source] * hours[hour] * days[weekday] / 3600
                )
                rng = background[source]
                for t in arrivals(rng, lo, hi, rate_s):
                    category = category_lists[source][pick(rng, category_cums[source])]
                    push(t, source, events.background(rng, source, category), rng)
            for (surge, s0, s1), rng in zip(self._surges, surge_rngs):
                a, b = max(lo, s0), min(hi, s1)
                if a >= b:
                    continue
                source = source_of(surge.category)
                hours, days = model.profiles[source]
                rate_s = (
                    (surge.multiplier - 1)
                    * self.base_rate(surge.cell_id, surge.category)
                    * hours[hour]
                    * days[weekday]
                    / 3600
                )
                for t in arrivals(rng, a, b, rate_s):
                    payload = events.surge(rng, surge)
                    if payload is not None:
                        push(t, source, payload, rng)
            hours, days = model.profiles["grid"]
            incident_rate_s = self.incidents_per_day / 86400 * hours[hour] * days[weekday]
            for t in arrivals(incident_rng, lo, hi, incident_rate_s):
                planted += 1
                kind = kinds[incident_rng.randrange(len(kinds))]
                incident = PlantedIncident(f"inc-{planted:05d}", kind, self.incident_kinds[kind])
                for event_s, source, payload in events.incident(incident_rng, incident, t):
                    push(event_s, source, payload, incident_rng)
            ring_rate_s = self.ring_outings_per_day / 86400 * hours[hour] * days[weekday]
            for r, rng in enumerate(ring_rngs):
                for t in arrivals(rng, lo, hi, ring_rate_s):
                    for event_s, source, payload in events.ring_outing(rng, r, t):
                        push(event_s, source, payload, rng)
            # Everything generated later happens at or after `hi`, and is
            # reported no earlier, so what is reported before `hi` is final.
            while pending and pending[0][0] < hi:
                yield emitter.emit(*heapq.heappop(pending))
            hour_start += 3600
        while pending:
            yield emitter.emit(*heapq.heappop(pending))
