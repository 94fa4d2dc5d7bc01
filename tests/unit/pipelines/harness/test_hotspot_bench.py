"""The bench's synthetic stream and its memory sampling (no services)."""

import json
import os

import pytest

from pipelines.harness.hotspot_bench import BenchStream, _rss_bytes, _tree

CELLS = [f"r{r:03d}c{c:03d}" for r in range(20) for c in range(20)]
CATEGORIES = ["public_order.fight", "public_order.petty_theft"]


def test_events_are_in_event_time_order_at_the_density():
    stream = BenchStream(CELLS, CATEGORIES, density=10.0)
    events = [json.loads(e) for e in stream.events(2000, 1_000_000, seed=1)]
    times = [e["event_time_ms"] for e in events]
    assert times == sorted(times)
    assert times[0] == 1_000_000 and times[-1] == 1_000_000 + 1999 * 100
    assert {e["category"] for e in events} == set(CATEGORIES)
    assert {e["cell_id"] for e in events} <= set(CELLS)
    # Reproducible: the same seed gives the same stream.
    assert [json.loads(e) for e in stream.events(2000, 1_000_000, seed=1)] == events


def test_baselines_are_the_generating_rates():
    stream = BenchStream(CELLS, CATEGORIES, density=10.0)
    baselines = stream.baselines(0.25)
    total = sum(baselines.rate(c, None, k)[0] for c in CELLS for k in CATEGORIES)
    assert total == pytest.approx(10.0 * 3600)


def test_rss_of_this_process_tree():
    assert os.getpid() in _tree(os.getpid())
    assert _rss_bytes(os.getpid()) > 10 * 2**20
