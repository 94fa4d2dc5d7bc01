"""The hotspot job's Python side: one call per window end, from counted slices to alerts.

Flink SQL (:mod:`pipelines.streaming.hotspot_sql`) hands Python one row
per slide end, its ``cell,category,n;...`` counts; :func:`keyed_scoring`
keeps a window's slices in Flink state and, per window end, hands the
scorer the window's slices, each ``'<slice end>#<cell,category,n;...>'``.
:class:`WindowScorer` parses them (:func:`parse_slice`), composes the
counts of every scan duration (:func:`compose_window`) and runs
:meth:`models.hotspot_detector.HotspotDetector.look_arrays` against the
baselines of a :class:`pipelines.streaming.baseline_store.BaselineStore`;
:func:`keyed_scoring` runs it in a keyed process function whose state holds
the alert lifecycle.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime

from features.local_time import DISTRICT_TZ
from features.taxonomy import CATEGORIES
from models.hotspot_detector import HotspotDetector, Place, scale_detectors
from models.time_scales import (
    bucket_end_ms,
    is_look,
    scale_looks,
    scale_window,
)
from pipelines.io.platform_state import load_district
from pipelines.settings import Settings
from pipelines.streaming.baseline_store import BaselineStore
from pipelines.streaming.null_maxima_store import NullMaximaStore
from pipelines.streaming.slice_fusion import SliceFusion

__all__ = [
    "scored_categories",
    "district_detector",
    "district_detectors",
    "compact_entries",
    "parse_slice",
    "compose_window",
    "WindowScorer",
    "local_epoch_ms",
    "window_slices",
    "keyed_scoring",
    "ALERT",
    "LINK",
]

log = logging.getLogger(__name__)

#: The kinds of row :func:`keyed_scoring` emits: a hotspot alert, an incident link.
ALERT, LINK = "alert", "link"


def scored_categories(hotspot: dict) -> list[str]:
    """The taxonomy's categories minus ``hotspot.excluded_categories``."""
    excluded = set(hotspot.get("excluded_categories") or ())
    return sorted(c for c in CATEGORIES if c not in excluded)


def district_detector(settings: Settings) -> HotspotDetector:
    """The base window's detector over the configured district (:func:`district_detectors`)."""
    return district_detectors(settings, longer=False)[0]


def district_detectors(settings: Settings, longer: bool = True) -> list[HotspotDetector]:
    """One detector per time scale over the district's cells, the base window's first.

    Each spends its scale's share of the budget (:mod:`models.time_scales`);
    their null maxima are kept under ``var/``. ``longer=False``: the base
    window's alone.
    """
    district = load_district(settings)
    places, coords = {}, []
    for cell in district.cells:
        lon, lat = district.grid.center_of(cell)
        where = district.locate(lon, lat)
        places[cell] = Place(
            where.town_code, where.town_name, where.village_code, where.village_name, lon, lat
        )
        coords.append(district.grid.to_metres(lon, lat))
    return scale_detectors(
        district.cells,
        coords,
        places,
        settings.hotspot,
        scored_categories(settings.hotspot),
        longer=longer,
        district_code=district.code,
        towns=len(district.towns),
        seed=settings.section("district").integer("seed"),
        null_store=NullMaximaStore(settings.var / "null_maxima"),
    )


def parse_slice(text: str):
    """One slice's ``cell,category,n[,minutes];...`` entries as columns, and how many were malformed.

    The optional fourth field is the time resolution of the entry's events
    in minutes (0 when absent: known to the slide). One C-level CSV parse
    (pandas); text that does not parse that way is read entry by entry,
    skipping and counting the malformed entries.

    Returns
    -------
    cells, categories, counts, resolutions : numpy.ndarray
    bad : int

    Examples
    --------
    >>> cells, categories, counts, minutes, bad = parse_slice("r1,a,2;r2,b,1,60")
    >>> list(cells), list(categories), counts.tolist(), minutes.tolist(), bad
    (['r1', 'r2'], ['a', 'b'], [2, 1], [0, 60], 0)
    >>> parse_slice("r1,a,2;r2,b;r3,c,x")[2].tolist(), parse_slice("r1,a,2;r2,b;r3,c,x")[4]
    ([2], 2)
    """
    import io

    import numpy as np
    import pandas as pd

    if not text:
        empty = np.array([], dtype=object)
        return empty, empty.copy(), np.zeros(0, int), np.zeros(0, int), 0
    if text.count(";") < PANDAS_FROM_ENTRIES:
        return _parse_entries(text)
    try:
        frame = pd.read_csv(
            io.StringIO(text.replace(";", "\n")),
            header=None,
            names=["cell", "category", "n", "minutes"],
            dtype={"cell": str, "category": str},
            keep_default_na=False,
            na_values={"minutes": [""]},
            on_bad_lines="error",
            engine="c",
        )
        counts = pd.to_numeric(frame["n"], errors="raise").to_numpy()
        minutes = pd.to_numeric(frame["minutes"], errors="raise").fillna(0).to_numpy()
        if (
            frame["category"].eq("").any()
            or counts.dtype.kind not in "iu"
            or (minutes != np.round(minutes)).any()
            or (minutes < 0).any()
        ):
            raise ValueError("malformed entries")
        return (
            frame["cell"].to_numpy(),
            frame["category"].to_numpy(),
            counts,
            minutes.astype(int),
            0,
        )
    except (ValueError, pd.errors.ParserError):
        return _parse_entries(text)


#: From this many entries on, a slice or a window goes through pandas (a C
#: parser, a hash group-by); below it, plain Python is faster, since setting
#: pandas up costs about a millisecond a call, which dominated the looks of
#: small slices (a replay of a year of a city looks some 10,000 times).
PANDAS_FROM_ENTRIES = 2000


def _parse_entries(text: str):
    """:func:`parse_slice` entry by entry, skipping and counting the malformed ones."""
    import numpy as np

    cells, categories, counts, resolutions, bad = [], [], [], [], 0
    for entry in text.split(";"):
        parts = entry.split(",")
        try:
            if len(parts) not in (3, 4) or not parts[1]:
                raise ValueError(entry)
            n = int(parts[2])
            minutes = int(parts[3]) if len(parts) == 4 else 0
            if minutes < 0:
                raise ValueError(entry)
        except ValueError:
            bad += 1
            continue
        cells.append(parts[0])
        categories.append(parts[1])
        counts.append(n)
        resolutions.append(minutes)
    return (
        np.array(cells, dtype=object),
        np.array(categories, dtype=object),
        np.array(counts, dtype=int),
        np.array(resolutions, dtype=int),
        bad,
    )


def compact_entries(text: str) -> str:
    """The ``cell,category,n[,minutes]`` entries of ``text`` with equal keys summed, sorted.

    A longer scale's bucket gathers the entries of its slices as they
    come; compacted once complete, it holds one entry per key.

    >>> compact_entries("r2,b,1;r1,a,2;r1,a,3,60;r1,a,1")
    'r1,a,3;r1,a,3,60;r2,b,1'
    """
    import pandas as pd

    cells, categories, counts, minutes, _ = parse_slice(text)
    if not len(cells):
        return ""
    frame = pd.DataFrame({"cell": cells, "category": categories, "m": minutes, "n": counts})
    sums = frame.groupby(["cell", "category", "m"], sort=True)["n"].sum()
    return ";".join(
        f"{cell},{category},{n}" + (f",{m}" if m else "") for (cell, category, m), n in sums.items()
    )


def compose_window(slices, durations_in_slices: list[int]):
    """Counts per cell, category and duration from the slices of one window.

    ``slices`` holds ``(k, cells, categories, counts)``, ``k`` being how many
    slides before the window's end the slice ends (0 for the last slice);
    a duration of ``d`` slides takes the slices with ``k < d``.

    Examples
    --------
    >>> import numpy as np
    >>> slices = [(0, np.array(["r1"]), np.array(["a"]), np.array([2])),
    ...           (2, np.array(["r1", "r2"]), np.array(["a", "a"]), np.array([3, 1]))]
    >>> cells, categories, values = compose_window(slices, [1, 6])
    >>> list(cells), list(categories), values.tolist()
    (['r1', 'r2'], ['a', 'a'], [[2.0, 5.0], [0.0, 1.0]])
    """
    import numpy as np
    import pandas as pd

    if not slices:
        return (
            np.array([], dtype=object),
            np.array([], dtype=object),
            np.zeros((0, len(durations_in_slices))),
        )
    if sum(len(s[1]) for s in slices) < PANDAS_FROM_ENTRIES:
        return _compose_entries(slices, durations_in_slices)
    frame = pd.DataFrame(
        {
            "cell": np.concatenate([s[1] for s in slices]),
            "category": np.concatenate([s[2] for s in slices]),
            "n": np.concatenate([s[3] for s in slices]).astype(float),
            "k": np.concatenate([np.full(len(s[1]), s[0]) for s in slices]),
        }
    )
    for d in durations_in_slices:
        frame[f"d{d}"] = frame["n"].where(frame["k"] < d, 0.0)
    sums = frame.groupby(["cell", "category"], sort=True)[
        [f"d{d}" for d in durations_in_slices]
    ].sum()
    return (
        sums.index.get_level_values(0).to_numpy(),
        sums.index.get_level_values(1).to_numpy(),
        sums.to_numpy(),
    )


def _compose_entries(slices, durations_in_slices: list[int]):
    """:func:`compose_window` in plain Python: one row per (cell, category), sorted.

    A key whose slices all lie outside every duration keeps a row of zeros,
    as the group-by gives it.
    """
    import numpy as np

    width = len(durations_in_slices)
    sums: dict[tuple, list[float]] = {}
    for k, cells, categories, counts in slices:
        taken = [j for j, d in enumerate(durations_in_slices) if k < d]
        for key, n in zip(zip(cells.tolist(), categories.tolist()), counts.tolist()):
            row = sums.get(key)
            if row is None:
                row = sums[key] = [0.0] * width
            for j in taken:
                row[j] += n
    keys = sorted(sums)
    return (
        np.array([cell for cell, _ in keys], dtype=object),
        np.array([category for _, category in keys], dtype=object),
        np.array([sums[key] for key in keys], dtype=float).reshape(len(keys), width),
    )


class WindowScorer:
    """What the Python UDTF runs per window end: parse the slices, look, serialize.

    A slice belongs to every window it falls in; its parsed columns are
    cached by the slice's end (a cache only: Flink's state holds the data).

    Parameters
    ----------
    detector : HotspotDetector
        Scores each look and keeps the alert lifecycle.
    store : BaselineStore
        The baselines each look is scored against.
    fusion : SliceFusion, optional
        Counts incidents, not reports, in each slice as it arrives
        (:mod:`pipelines.streaming.slice_fusion`); None counts reports.
    on_look : callable, optional
        Called after each look with its end (epoch seconds) and its alerts
        (a replay's progress).
    longer : sequence of HotspotDetector
        One detector per longer time scale (:mod:`models.time_scales`),
        each looking at its own buckets (:meth:`score_scale`).
    tz : tzinfo
        The clock whose hours and days the longer scales' buckets follow:
        the district's, or a replayed file's.
    """

    def __init__(
        self,
        detector: HotspotDetector,
        store: BaselineStore,
        fusion: SliceFusion | None = None,
        on_look=None,
        longer=(),
        tz=DISTRICT_TZ,
    ):
        self.detector = detector
        self.store = store
        self.fusion = fusion
        self.on_look = on_look
        self.longer = list(longer)
        self.tz = tz
        self._slices: dict = {}

    def _parsed(self, text: str):
        head, _, body = text.partition("#")
        key = (head, len(body))
        if key not in self._slices:
            if len(self._slices) > 4 * self.detector.buckets:
                self._slices.clear()
            self._slices[key] = (local_epoch_ms(head) // 1000, *parse_slice(body))
        return self._slices[key]

    def score(self, window_end_local: datetime, payload, now_ms: int) -> list[dict]:
        """The alerts of the window ending at ``window_end_local`` (district time, naive).

        ``payload`` lists the window's slices; an unparsable slice or entry
        is skipped, counted and logged.
        """
        end_s = int(window_end_local.replace(tzinfo=DISTRICT_TZ).timestamp())
        slide_s = self.detector.slide_min * 60
        slices, bad = [], 0
        for text in payload or ():
            try:
                slice_end_s, cells, categories, counts, minutes, malformed = self._parsed(text)
            except ValueError:
                bad += 1
                continue
            bad += malformed
            fine = minutes <= self.detector.slide_min
            slices.append(
                ((end_s - slice_end_s) // slide_s, cells[fine], categories[fine], counts[fine])
            )
        if bad:
            log.warning(
                "window ending %s: %d malformed count entries skipped", window_end_local, bad
            )
        baselines = self.store.at(end_s)
        alerts = []
        if baselines is not None:  # None: no baselines yet for this look (a replay's warm-up)
            cells, categories, values = compose_window(
                slices, [d // self.detector.slide_min for d in self.detector.durations_min]
            )
            alerts = self.detector.look_arrays(
                end_s, cells, categories, values, baselines, now_ms=now_ms
            )
        if self.on_look is not None:
            self.on_look(end_s, alerts)
        return alerts

    def score_scale(self, detector: HotspotDetector, end_ms: int, buckets, now_ms: int):
        """The alerts of a longer scale's look ending at ``end_ms`` (epoch ms).

        ``buckets`` holds ``(bucket end ms, entries)`` of the buckets in its
        window; an entry votes when its time resolution is no coarser than
        the scale's slide (:meth:`models.time_scales.TimeScale.admits`).
        """
        slide_ms = detector.slide_min * 60_000
        parts, bad = [], 0
        for bucket_end, text in buckets:
            cells, categories, counts, minutes, malformed = parse_slice(text)
            bad += malformed
            admitted = minutes <= detector.slide_min
            parts.append(
                (
                    int(round((end_ms - bucket_end) / slide_ms)),
                    cells[admitted],
                    categories[admitted],
                    counts[admitted],
                )
            )
        if bad:
            log.warning(
                "%s look ending %d: %d malformed entries skipped", detector.scale, end_ms, bad
            )
        end_s = end_ms // 1000
        baselines = self.store.at(end_s)
        alerts = []
        if baselines is not None:
            cells, categories, values = compose_window(
                parts, [d // detector.slide_min for d in detector.durations_min]
            )
            alerts = detector.look_arrays(
                end_s, cells, categories, values, baselines, now_ms=now_ms
            )
        if self.on_look is not None:
            self.on_look(end_s, alerts)
        return alerts


def local_epoch_ms(text: str) -> int:
    """Epoch milliseconds of a district-time timestamp as Flink SQL casts it to text.

    Examples
    --------
    >>> local_epoch_ms("2026-11-02 08:05:00")
    1793577900000
    """
    return int(datetime.fromisoformat(text.strip()).replace(tzinfo=DISTRICT_TZ).timestamp() * 1000)


def window_slices(slice_ends, window_end_ms: int, slide_ms: int, buckets: int):
    """The slice ends a window ends at ``window_end_ms`` holds, and those no later window needs.

    A window of ``buckets`` slides holds the slices ending in
    ``(window_end - buckets * slide, window_end]``; the next window starts a
    slide later, so a slice ending at or before ``window_end - (buckets - 1)
    * slide`` is of no further use.

    Examples
    --------
    >>> window_slices([0, 5, 10, 15], 15, 5, 3)
    ([5, 10, 15], [0, 5])
    """
    first = window_end_ms - buckets * slide_ms
    held = sorted(e for e in slice_ends if first < e <= window_end_ms)
    done = sorted(e for e in slice_ends if e <= first + slide_ms)
    return held, done


def keyed_scoring(scorer: WindowScorer):
    """A ``KeyedProcessFunction`` that scores every window end, its inputs in Flink state.

    Takes ``(slice end as district-time text, entries joined by ;, reports)``
    rows, one per slide end, and emits ``("alert", alert_id, alert JSON)``
    rows, and with fusion ``("link", event_id, link JSON)`` rows. With
    the scorer's ``fusion``, each slice's counts become counts of incidents
    as the slice arrives (slices arrive in event time, as their windows
    close), and the state keeps the reports later slices may link to. Its
    keyed state (one key: the district) holds:

    * the slices of the last window (map state, slice end -> text); each
      slice registers an event-time timer for every window end that holds
      it, and the timer of a window end, fired when the watermark passes
      it, scores that window (the same window ends a ``HOP`` window over the
      slices would emit, in order);
    * the open clusters of :class:`models.cluster_lifecycle.ClusterTracker`
      (value state), restored into the tracker before each look and saved
      after it;
    * with fusion, the recent reports and their incidents (value state).

    So both are checkpointed with the job, and a job restarted from its
    checkpoint goes on with the same slices and clusters instead of raising
    each cluster again as new.
    """
    from pyflink.common import Row, Types
    from pyflink.datastream.functions import KeyedProcessFunction
    from pyflink.datastream.state import MapStateDescriptor, ValueStateDescriptor

    detector = scorer.detector
    fusion = scorer.fusion
    slide_ms = detector.slide_min * 60_000
    buckets = detector.buckets
    tz = scorer.tz
    longer = [(d, d.time_scale) for d in scorer.longer]

    class LifecycleScoring(KeyedProcessFunction):
        def open(self, runtime_context):
            self.clusters = runtime_context.get_state(
                ValueStateDescriptor("open_clusters", Types.PICKLED_BYTE_ARRAY())
            )
            self.slices = runtime_context.get_map_state(
                MapStateDescriptor("window_slices", Types.LONG(), Types.STRING())
            )
            self.recent = runtime_context.get_state(
                ValueStateDescriptor("fusion_recent_reports", Types.PICKLED_BYTE_ARRAY())
            )
            # Per longer scale: its buckets (end -> entries) and its open clusters.
            self.scale_buckets = [
                runtime_context.get_map_state(
                    MapStateDescriptor(f"buckets_{d.scale}", Types.LONG(), Types.STRING())
                )
                for d, _ in longer
            ]
            self.scale_clusters = [
                runtime_context.get_state(
                    ValueStateDescriptor(f"open_clusters_{d.scale}", Types.PICKLED_BYTE_ARRAY())
                )
                for d, _ in longer
            ]

        def process_element(self, value, ctx):
            end_ms = local_epoch_ms(value[0])
            entries = value[1] or ""
            if fusion is not None:
                entries, recent, links = fusion.fuse(end_ms, entries, value[2], self.recent.value())
                self.recent.update(recent)
                for link in links.to_dict("records"):
                    link["slice_end"] = value[0]
                    yield Row(LINK, link["event_id"], json.dumps(link, ensure_ascii=False))
            self.slices.put(end_ms, f"{value[0]}#{entries}")
            # A window's row time is its end less 1 ms, as Flink's windows have it.
            for k in range(buckets):
                ctx.timer_service().register_event_time_timer(end_ms - 1 + k * slide_ms)
            if not entries:
                return
            for (_, scale), state in zip(longer, self.scale_buckets):
                bucket = bucket_end_ms(end_ms, scale.slide_min, tz)
                held = state.get(bucket)
                state.put(bucket, f"{held};{entries}" if held else entries)
                for look in scale_looks(bucket, scale, tz):
                    ctx.timer_service().register_event_time_timer(look - 1)

        def on_timer(self, timestamp, ctx):
            window_end_ms = timestamp + 1
            alerts = self._score_base(window_end_ms)
            for (scale_detector, scale), state, clusters in zip(
                longer, self.scale_buckets, self.scale_clusters
            ):
                if is_look(window_end_ms, scale, tz):
                    alerts += self._score_scale(
                        scale_detector, scale, state, clusters, window_end_ms
                    )
            # Emitted once the look is done: its cost is part of an alert's latency.
            emitted_ms = int(time.time() * 1000)
            for alert in alerts:
                alert["emitted_at_ms"] = emitted_ms
                yield Row(ALERT, alert["alert_id"], json.dumps(alert, ensure_ascii=False))

        def _score_base(self, window_end_ms):
            held, done = window_slices(list(self.slices.keys()), window_end_ms, slide_ms, buckets)
            payload = [self.slices.get(end) for end in held]
            for end in done:
                self.slices.remove(end)
            if not payload:
                return []
            tracker = detector.tracker
            tracker.restore(self.clusters.value())
            window_end = datetime.fromtimestamp(window_end_ms / 1000, DISTRICT_TZ).replace(
                tzinfo=None
            )
            alerts = scorer.score(window_end, payload, int(time.time() * 1000))
            self.clusters.update(tracker.snapshot())
            return alerts

        def _score_scale(self, scale_detector, scale, state, clusters, window_end_ms):
            held, done = scale_window(list(state.keys()), window_end_ms, scale)
            if window_end_ms in held:
                # The look's own bucket is complete: keep one entry per key.
                state.put(window_end_ms, compact_entries(state.get(window_end_ms)))
            payload = [(end, state.get(end)) for end in held]
            for end in done:
                state.remove(end)
            if not payload and not clusters.value():
                return []
            scale_detector.tracker.restore(clusters.value())
            alerts = scorer.score_scale(
                scale_detector, window_end_ms, payload, int(time.time() * 1000)
            )
            clusters.update(scale_detector.tracker.snapshot())
            return alerts

    return LifecycleScoring()
