"""Expected counts of a hotspot look from the nightly baselines (基线期望).

Cell ``j`` expects ``rate_j × h_b`` events of a category in time bucket
``b`` of the window: its rate (events per hour, weekly average, from
:meth:`features.baselines.Baselines.rate`: the cell's nightly rate, else
its town's prior, else the fallback) times the bucket's profile hours
``h_b = ∫ factor dt`` of the category's channel
(:meth:`features.baselines.Baselines.profile_hours`). A scan duration of
``d`` minutes covers the last ``d / slide`` buckets, so it expects
``rate_j`` times the sum of their hours. Rates are cached per baselines
version and category; bucket hours for the last (baselines, category,
window end) asked for only, since looks move forward.
"""

from __future__ import annotations

import numpy as np

from features.baselines import Baselines
from features.taxonomy import CATEGORIES, source_of

__all__ = ["BaselineExpectation"]


class BaselineExpectation:
    """Per-cell rates and per-bucket hours of the looks of one detector, cached.

    Parameters
    ----------
    cells : list of str
        The detector's cells, in its order.
    places : dict
        ``cell -> Place``; its town picks the town fallback rate.
    buckets : int
        Time buckets (slides) in a window, oldest first.
    slide_min : int
        Minutes per bucket.
    durations_min : list of int
        The scan durations, ascending, each a multiple of ``slide_min``.
    """

    def __init__(self, cells, places: dict, *, buckets: int, slide_min: int, durations_min):
        self.cells = cells
        self.places = places
        self.buckets = buckets
        self.slide_min = slide_min
        self.durations_min = durations_min
        self._rates: dict = {}
        self._weights_cache: tuple = (None, None)

    def rate_vector(self, baselines: Baselines, category: str):
        """Rate of every cell and the baseline it came from.

        Returns
        -------
        rates : numpy.ndarray of shape (n_cells,)
        sources : list of str
        """
        key = (baselines.version, category)
        if key not in self._rates:
            rates = np.empty(len(self.cells))
            sources = []
            for i, cell in enumerate(self.cells):
                place = self.places.get(cell)
                rates[i], source = baselines.rate(
                    cell, place.town_code if place else None, category
                )
                sources.append(source)
            self._rates[key] = (rates, sources)
        return self._rates[key]

    def shape_vector(self, baselines: Baselines, category: str) -> np.ndarray:
        """Every cell's gamma shape (:meth:`features.baselines.Baselines.shape`); ``inf``: Poisson."""
        key = (baselines.version, category, "shape")
        if key not in self._rates:
            self._rates[key] = np.array([baselines.shape(c, category) for c in self.cells])
        return self._rates[key]

    def bucket_weights(self, baselines: Baselines, category: str, window_end_s: int):
        """Profile hours of each bucket of the window ending at ``window_end_s``.

        Returns
        -------
        weights : numpy.ndarray of shape (buckets,)
            Oldest bucket first.
        complete : bool
            Whether the profile covered every bucket.
        """
        key = (baselines.version, category, window_end_s)
        if self._weights_cache[0] != key:
            source = source_of(category) if category in CATEGORIES else category
            weights, complete = [], True
            for b in range(self.buckets):
                start = window_end_s - (self.buckets - b) * self.slide_min * 60
                hours, full = baselines.profile_hours(source, start, start + self.slide_min * 60)
                weights.append(hours)
                complete &= full
            self._weights_cache = (key, (np.array(weights), complete))
        return self._weights_cache[1]

    def duration_hours(self, weights) -> np.ndarray:
        """Profile hours of each scan duration: the sum over its last buckets."""
        return np.array(
            [weights[self.buckets - d // self.slide_min :].sum() for d in self.durations_min]
        )
