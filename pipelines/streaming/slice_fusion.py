"""The hotspot job's incident fusion: each slice's counts hold incidents, not reports.

With ``incident_fusion.count_incidents``, Flink SQL hands Python, beside
each slice's ``cell,category,n`` counts, the slice's reports of the
categories the incident kinds name (:func:`report_json_sql`: id, channel,
category, cell, time, place, words, pseudonymous people and plates), as
JSON texts joined by :data:`REPORT_SEPARATOR`. :class:`SliceFusion` links
them to the reports of the last ``max_gap_minutes`` and to each other
(:func:`models.incident_fusion.fuse_arrivals`, with the declared linker),
and takes each report that joined an earlier incident off its cell's count:
the windows count an incident once, at its first report. The reports
themselves stay as they are, in the normalized topic and the lake.

The recent reports are keyed state of the scoring function
(:func:`pipelines.streaming.window_scorer.keyed_scoring`), checkpointed with
the slices.
"""

from __future__ import annotations

import json
import logging
from collections import Counter

import pandas as pd

from features.cell_grid import CellGrid
from models.incident_fusion import compatible_categories, fuse_arrivals, report_entities

__all__ = ["REPORT_SEPARATOR", "SliceFusion", "fusable_categories", "report_json_sql"]

log = logging.getLogger(__name__)

#: Between two reports' JSON texts (JSON escapes every control character, so none holds it).
REPORT_SEPARATOR = "\x1e"
_COLUMNS = ["event_id", "source", "category", "cell", "time_s", "x_m", "y_m", "text", "entities"]


def fusable_categories(rules: dict) -> list[str]:
    """The categories some incident kind names: the reports fusion reads.

    >>> fusable_categories({"incident_kinds": {"a": {"grid": "g.x", "video": "v.y"},
    ...                                        "b": {"grid": "g.z", "video": "v.y"}}})
    ['g.x', 'g.z', 'v.y']
    """
    return sorted({c for channels in rules["incident_kinds"].values() for c in channels.values()})


def report_json_sql(categories: list[str]) -> str:
    """A SQL expression: the event's report as JSON when its category is one of ``categories``, else NULL.

    >>> sql = report_json_sql(["g.x"])
    >>> sql.startswith("CASE WHEN category IN ('g.x') THEN JSON_OBJECT(")
    True
    """
    listed = ", ".join(f"'{c}'" for c in categories) or "''"
    return f"""CASE WHEN category IN ({listed}) THEN JSON_OBJECT(
        'id' VALUE event_id, 'source' VALUE source, 'category' VALUE category,
        'cell' VALUE cell_id, 't' VALUE event_time_ms, 'lon' VALUE lon, 'lat' VALUE lat,
        'text' VALUE COALESCE(attributes.description, attributes.`text`),
        'persons' VALUE persons, 'vehicles' VALUE vehicles) END"""


class SliceFusion:
    """Fuse a slice's reports with the recent ones; the slice's counts less the reports that joined.

    Parameters
    ----------
    rules : dict
        The incident fusion file (:func:`pipelines.io.platform_state.load_incident_fusion`).
    grid : CellGrid, optional
        The district's grid, for each JSON report's place in metres (not
        needed to fuse frames that have it, :meth:`fuse_frame`).
    """

    def __init__(self, rules: dict, grid: CellGrid | None = None):
        self.rules = rules
        self.grid = grid
        self.compatible = compatible_categories(rules["incident_kinds"])
        self.max_gap_s = float(rules["max_gap_minutes"]) * 60
        linker = dict(rules["linker"])
        self.online = {
            "max_distance_m": float(rules["max_distance_m"]),
            "max_gap_s": self.max_gap_s,
            "intercept": linker.pop("intercept"),
            "weights": linker,
            "min_confidence": float(rules["min_confidence"]),
        }

    def reports(self, text: str | None) -> pd.DataFrame:
        """The reports of a slice's JSON texts; one that does not parse is skipped and logged."""
        rows, bad = [], 0
        for item in (text or "").split(REPORT_SEPARATOR):
            if not item:
                continue
            try:
                report = json.loads(item)
                x, y = self.grid.to_metres(float(report["lon"]), float(report["lat"]))
                rows.append(
                    [
                        str(report["id"]),
                        str(report["source"]),
                        str(report["category"]),
                        str(report["cell"]),
                        int(report["t"]) / 1000,
                        x,
                        y,
                        report.get("text") or "",
                        report_entities(report.get("persons"), report.get("vehicles")),
                    ]
                )
            except (ValueError, TypeError, KeyError):
                bad += 1
        if bad:
            log.warning("incident fusion: %d unreadable reports skipped", bad)
        return pd.DataFrame(rows, columns=_COLUMNS)

    def fuse(
        self, slice_end_ms: int, entries: str, reports: str | None, recent: pd.DataFrame | None
    ) -> tuple[str, pd.DataFrame, pd.DataFrame]:
        """``(entries, recent, links)``: the slice's counts of incidents, the reports to keep, the links.

        ``entries`` is the slice's ``cell,category,n;...``; a report that
        joined an earlier incident comes off its cell and category. ``recent``
        (None at first) is what the last call returned: the reports of the
        last ``max_gap_minutes`` before the slice's end, with their incidents.
        """
        arrivals, kept, links = self.fuse_frame(slice_end_ms, self.reports(reports), recent)
        joined = arrivals[arrivals["incident"] != arrivals["event_id"]]
        if len(joined):
            entries = _less(entries, Counter(zip(joined["cell"], joined["category"], strict=True)))
        return entries, kept, links

    def fuse_frame(
        self, slice_end_ms: int, arrivals: pd.DataFrame, recent: pd.DataFrame | None
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """``(arrivals, recent, links)``: a slice's reports (a frame) fused with the recent ones.

        The arrivals come back with their ``incident``; ``recent`` (None at
        first) is what the last call returned, the reports a later slice's
        may still be linked to (those of the last ``max_gap_minutes``).
        """
        earlier = recent if recent is not None else arrivals.iloc[:0].assign(incident=[])
        if arrivals.empty:
            return arrivals.assign(incident=[]), self._kept(earlier, slice_end_ms), _no_links()
        labels, links = fuse_arrivals(earlier, arrivals, self.compatible, **self.online)
        arrivals = arrivals.assign(incident=labels)
        both = pd.concat([earlier, arrivals], ignore_index=True) if len(earlier) else arrivals
        return arrivals, self._kept(both, slice_end_ms), links

    def _kept(self, reports: pd.DataFrame, slice_end_ms: int) -> pd.DataFrame:
        """The reports a later slice's reports can still be linked to."""
        return reports[reports["time_s"] >= slice_end_ms / 1000 - self.max_gap_s].reset_index(
            drop=True
        )


def _no_links() -> pd.DataFrame:
    return pd.DataFrame(columns=["event_id", "linked_to", "incident", "confidence"])


def _less(entries: str, joined: Counter) -> str:
    """``cell,category,n;...`` less ``joined`` per (cell, category); an entry brought to 0 is dropped.

    >>> _less("c1,a,2;c2,b,1;bad", Counter({("c1", "a"): 1, ("c2", "b"): 1}))
    'c1,a,1;bad'
    """
    out = []
    for entry in entries.split(";") if entries else ():
        parts = entry.split(",")
        if len(parts) == 3 and (parts[0], parts[1]) in joined and parts[2].isdigit():
            n = int(parts[2]) - joined[(parts[0], parts[1])]
            if n > 0:
                out.append(f"{parts[0]},{parts[1]},{n}")
            continue
        out.append(entry)
    return ";".join(out)
