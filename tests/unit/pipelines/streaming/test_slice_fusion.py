import json

from features.cell_grid import CellGrid
from features.incident_kinds import EVIDENCE
from pipelines.streaming.slice_fusion import REPORT_SEPARATOR, SliceFusion

RULES = {
    "incident_kinds": {
        "dumping": {
            "grid": "environment.illegal_dumping",
            "hotline": "hotline.environmental_protection",
        }
    },
    "max_distance_m": 300.0,
    "max_gap_minutes": 60.0,
    "min_confidence": 0.5,
    "linker": {"intercept": -6.0, "closeness": 5.0, "simultaneity": 4.0}
    | {name: 0.0 for name in EVIDENCE[2:]},
}
GRID = CellGrid(116.0, 40.0, 500.0)
T0 = 1_793_577_900_000  # a slice's start, epoch ms
SLICE_MS = 300_000


def _report(event_id, source, category, t_ms, east_m=0.0, cell="r1"):
    lon, lat = GRID.from_metres(1000.0 + east_m, 1000.0)
    return json.dumps(
        {
            "id": event_id,
            "source": source,
            "category": category,
            "cell": cell,
            "t": t_ms,
            "lon": lon,
            "lat": lat,
            "text": None,
            "persons": [{"id_hash": None, "phone_hash": "tel", "name_hash": None}],
            "vehicles": [],
        }
    )


def test_a_report_that_joins_an_earlier_incident_comes_off_its_count():
    fusion = SliceFusion(RULES, GRID)
    grid_report = _report("g", "grid", "environment.illegal_dumping", T0 + 60_000)
    entries, recent, links = fusion.fuse(
        T0 + SLICE_MS, "r1,environment.illegal_dumping,1;r2,public_order.fight,3", grid_report, None
    )
    assert entries == "r1,environment.illegal_dumping,1;r2,public_order.fight,3"
    assert links.empty and list(recent["incident"]) == ["g"]
    # Next slice: the same incident's call (50 m away, 4 min later) and a call
    # about something 2 km away.
    calls = REPORT_SEPARATOR.join(
        [
            _report("c1", "hotline", "hotline.environmental_protection", T0 + 300_000, 50.0),
            _report("c2", "hotline", "hotline.environmental_protection", T0 + 310_000, 2000.0),
            "not json",
        ]
    )
    entries, recent, links = fusion.fuse(
        T0 + 2 * SLICE_MS, "r1,hotline.environmental_protection,2", calls, recent
    )
    assert entries == "r1,hotline.environmental_protection,1"
    assert list(links["event_id"]) == ["c1"] and list(links["incident"]) == ["g"]
    assert dict(zip(recent["event_id"], recent["incident"], strict=True)) == {
        "g": "g",
        "c1": "g",
        "c2": "c2",
    }


def test_reports_older_than_the_largest_gap_are_let_go():
    fusion = SliceFusion(RULES, GRID)
    first = _report("g", "grid", "environment.illegal_dumping", T0)
    _, recent, _ = fusion.fuse(T0 + SLICE_MS, "r1,environment.illegal_dumping,1", first, None)
    # 61 minutes on, a slice without reports of the kinds: nothing is left to link to.
    entries, recent, links = fusion.fuse(T0 + 61 * 60_000 + SLICE_MS, "r9,x.y,2", None, recent)
    assert entries == "r9,x.y,2" and recent.empty and links.empty
