"""The hotspot bench's synthetic stream: a dense null stream with a few hot cells.

The generating rates are the baselines the bench's detector scores against,
so every alert comes from the hot cells or from chance.

Examples
--------
>>> stream = BenchStream(["r000c000", "r000c001"], ["fight"], density=2.0)
>>> [(key, timestamp) for key, _, timestamp in bench_messages([b"a", b"b", b"c"], 1000, 2.0)]
[(b'1', 1000), (b'2', 1500), (b'3', 2000)]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from features.baselines import Baselines
from features.local_time import DISTRICT_TZ

__all__ = ["STREAM_START", "PRODUCER_CONFIG", "BenchStream", "bench_messages"]

#: Event-time start of the synthetic streams: a Monday morning.
STREAM_START = datetime(2026, 11, 2, 8, 0, tzinfo=DISTRICT_TZ)
_HOT_CELLS = 3
#: A normalized event as the hotspot job reads it, with the fields around it.
_EVENT = (
    b'{"event_id":"bench-%d-%d","source":"grid","category":"%s","cell_id":"%s",'
    b'"event_time_ms":%d,"report_time_ms":%d,"town_code":"110118000000",'
    b'"village_code":"110118000000000","lon":116.84,"lat":40.37,'
    b'"persons":[{"role":"reporter","person_key":"pid_000000000000000000000000"}],'
    b'"attributes":{"reporter_id":"pid_111111111111111111111111"}}'
)
_HOT_MULTIPLIER = 12.0
#: How the bench writes its streams: large, compressed batches, a deep local queue.
PRODUCER_CONFIG = {
    "linger.ms": 20,
    "batch.size": 1_000_000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 1_000_000,
}


@dataclass
class BenchStream:
    """A synthetic null stream over the district, with its true rates as baselines.

    ``density`` is events per second of event time over the whole district.
    """

    cells: list
    categories: list
    density: float
    seed: int = 3

    def __post_init__(self):
        rng = np.random.default_rng(self.seed)
        ranks = rng.permutation(len(self.cells))
        weights = 1.0 / (ranks + 20.0)
        self.cell_p = weights / weights.sum()
        self.hot = [int(i) for i in np.argsort(ranks)[:_HOT_CELLS]]

    def baselines(self, fallback: float) -> Baselines:
        """The generating rate of every cell and category, as the detector's baselines."""
        per_hour = self.density * 3600 / len(self.categories)
        rates = {
            (cell, category): float(p * per_hour)
            for cell, p in zip(self.cells, self.cell_p)
            for category in self.categories
        }
        return Baselines(rates, {}, {}, fallback)

    def events(self, n: int, start_ms: int, seed: int):
        """``n`` events from ``start_ms`` on, in event-time order, as JSON bytes."""
        rng = np.random.default_rng(seed)
        step_ms = 1000.0 / self.density
        cells = [c.encode() for c in self.cells]
        categories = [c.encode() for c in self.categories]
        block = 50_000
        hot_share = (_HOT_MULTIPLIER - 1) * self.cell_p[self.hot].sum()
        for first in range(0, n, block):
            size = min(block, n - first)
            cell_index = rng.choice(len(self.cells), size=size, p=self.cell_p)
            # The hot cells get their extra events in their first category.
            hot = rng.random(size) < hot_share / (1 + hot_share)
            cell_index[hot] = rng.choice(self.hot, size=int(hot.sum()))
            category_index = rng.integers(len(self.categories), size=size)
            category_index[hot] = 0
            times = (start_ms + (first + np.arange(size)) * step_ms).astype(np.int64)
            for k in range(size):
                t = int(times[k])
                # Formatting bytes, not json.dumps: the producer shares the two
                # cores with the job it measures.
                yield _EVENT % (
                    seed,
                    first + k,
                    categories[category_index[k]],
                    cells[cell_index[k]],
                    t,
                    t,
                )


def bench_messages(
    payloads: Iterable[bytes], start_ms: int, density: float
) -> Iterator[tuple[bytes, bytes, int]]:
    """``(key, value, timestamp_ms)`` of a backlog: keys count from 1, times at ``density``."""
    for count, value in enumerate(payloads, 1):
        yield str(count).encode(), value, int(start_ms + (count - 1) * 1000.0 / density)
