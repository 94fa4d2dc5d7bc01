"""The background model of a district: how often each category happens, and where.

* **Rate.** ``events_per_hour`` is the long-run average over all channels,
  split by ``channel_mix`` and then by fixed category shares
  (:mod:`pipelines.harness.simulator.intensity`).
* **Rhythm.** Each channel has an hour-of-day profile (Asia/Shanghai) and a
  day-of-week factor, both with mean 1 (:mod:`pipelines.harness.simulator.rhythms`),
  so the intensity at time ``t`` is
  ``base_rate × hour_factor × weekday_factor``; arrivals are a Poisson
  process, piecewise constant per hour.
* **Space.** Grid and hotline events fall around a village centre chosen
  with weight town-kind weight × a per-village activity factor × a
  category affinity for 村 or 社区, scattered by an isotropic Gaussian
  (σ = 250 m around a 社区, 400 m around a 村) on the grid's projection.
  Plate reads happen at LPR sites (weight ∝ lanes × town weight), camera
  alarms at cameras.  :meth:`BackgroundModel.cell_rates` integrates this
  model exactly over the cells.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from functools import cached_property

from features.geography import District, Site
from pipelines.harness.simulator.intensity import (
    category_rates,
    site_cell_rates,
    site_weights,
    village_cell_rates,
    village_weights,
)
from pipelines.harness.simulator.rhythms import channel_profiles
from pipelines.harness.simulator.sampling import cumulative

__all__ = ["BackgroundModel"]


class BackgroundModel:
    """Background rates of a district, per category and cell, built on first use.

    Parameters
    ----------
    district : District
        The district the events happen in.
    events_per_hour : float
        Long-run average rate over all channels (checked by the caller).
    mix : mapping of str to float
        Each channel's share (see
        :func:`~pipelines.harness.simulator.parameters.check_parameters`).
    """

    def __init__(self, district: District, events_per_hour: float, mix: Mapping[str, float]):
        self.district = district
        self.events_per_hour = events_per_hour
        self.mix = mix

    @cached_property
    def profiles(self) -> dict[str, tuple[tuple[float, ...], tuple[float, ...]]]:
        """Each channel's hour-of-day and day-of-week factors."""
        return channel_profiles()

    @cached_property
    def category_rates(self) -> dict[str, float]:
        """Long-run events/hour of each category over the whole district."""
        return category_rates(self.events_per_hour, self.mix)

    @cached_property
    def village_xy(self) -> list[tuple[float, float]]:
        """Each village's centre in the grid's metres."""
        grid = self.district.grid
        return [grid.to_metres(v.lon, v.lat) for v in self.district.villages]

    @cached_property
    def village_weights(self) -> dict[str, list[float]]:
        """Unnormalised weight of each village for each grid/hotline category.

        A property of the district, not of the run: every seed simulates
        the same places being busy, so baselines learnt from one run's
        history hold for another run's stream.
        """
        return village_weights(self.district, random.Random(f"{self.district.code}:activity"))

    @cached_property
    def site_weights(self) -> dict[str, tuple[tuple[Site, ...], list[float]]]:
        """The sites of each video category with their unnormalised weights."""
        return site_weights(self.district)

    @cached_property
    def samplers(self) -> dict[str, list[float]]:
        """Cumulative weights used to draw a village (or site) per category."""
        samplers = {c: cumulative(w) for c, w in self.village_weights.items()}
        for c, (sites, w) in self.site_weights.items():
            samplers[c] = cumulative(w) if sites else []
        return samplers

    def cell_rates(self, category: str) -> dict[str, float]:
        """Long-run events/hour of ``category`` in each cell it can happen in."""
        cache = self.__dict__.setdefault("_cell_rate_cache", {})
        if category in cache:
            return cache[category]
        rate = self.category_rates[category]
        grid = self.district.grid
        if category in self.site_weights:
            sites, weights = self.site_weights[category]
            rates = site_cell_rates(grid, sites, weights, rate)
        else:
            rates = village_cell_rates(
                grid,
                self.district.villages,
                self.village_xy,
                self.village_weights[category],
                rate,
            )
        cache[category] = rates
        return rates
