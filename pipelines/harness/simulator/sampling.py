"""Random draws shared by the simulator: weighted choices and Poisson arrivals.

Examples
--------
>>> import random
>>> weights = cumulative([1.0, 0.0, 3.0])
>>> weights
[1.0, 1.0, 4.0]
>>> rng = random.Random(2)
>>> sorted({pick(rng, weights) for _ in range(200)})  # index 1 has no weight
[0, 2]
>>> list(arrivals(random.Random(3), 0, 10, 0.0))
[]
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Iterable, Iterator

__all__ = ["cumulative", "pick", "arrivals"]


def cumulative(weights: Iterable[float]) -> list[float]:
    """Running totals of ``weights``, the table :func:`pick` draws from."""
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def pick(rng: random.Random, totals: list[float]) -> int:
    """Draw an index with probability proportional to its weight (one ``rng.random()``).

    ``totals`` is the :func:`cumulative` of the weights.
    """
    return bisect_right(totals, rng.random() * totals[-1])


def arrivals(rng: random.Random, lo: int, hi: int, rate_per_s: float) -> Iterator[int]:
    """Whole-second arrival times of a Poisson process of constant rate in [lo, hi)."""
    if rate_per_s <= 0:
        return
    t = float(lo)
    while True:
        t += rng.expovariate(rate_per_s)
        if t >= hi:
            return
        yield int(t)
