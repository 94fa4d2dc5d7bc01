"""The hotspot bench's timings of the statistics against their references.

Gi* of all district cells against one sparse matrix-vector product (the
least any Gi* must do), and permutation p-values against ``esda.G_Local``.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["gi_star_timing", "permutation_timing"]


def gi_star_timing(cells, weights, repeats: int) -> dict:
    """Best-of-7 time of Gi* z-scores and of ``weights @ counts``, and their ratio."""
    import timeit

    from models.getis_ord import GiStar

    rng = np.random.default_rng(5)
    counts = rng.poisson(2.0, len(cells)).astype(float)
    statistic = GiStar(weights)
    statistic.z_scores(counts)
    matvec = min(timeit.repeat(lambda: weights @ counts, number=repeats, repeat=7)) / repeats
    gi = min(timeit.repeat(lambda: statistic.z_scores(counts), number=repeats, repeat=7)) / repeats
    return {
        "cells": len(cells),
        "matvec_us": round(matvec * 1e6, 2),
        "gi_star_us": round(gi * 1e6, 2),
        "ratio": round(gi / matvec, 3),
    }


def permutation_timing(permutations: int) -> dict:
    """Our permutation p-values against ``esda.G_Local`` on a 60 x 60 grid: time and agreement."""
    from esda.getisord import G_Local
    from libpysal.weights import lat2W

    from models.getis_ord import gi_star_permutation_p, grid_weights

    side = 60
    rng = np.random.default_rng(6)
    counts = rng.poisson(2.0, side * side).astype(float)
    started = time.perf_counter()
    ours = gi_star_permutation_p(
        counts, grid_weights(side, side), n_permutations=permutations, random_state=7
    )
    ours_s = time.perf_counter() - started
    w = lat2W(side, side, rook=False)
    started = time.perf_counter()
    theirs = G_Local(counts, w, star=True, permutations=permutations, seed=7)
    esda_s = time.perf_counter() - started
    return {
        "cells": side * side,
        "permutations": permutations,
        "ours_s": round(ours_s, 3),
        "esda_s": round(esda_s, 3),
        "speedup": round(esda_s / ours_s, 2),
        "p_correlation": round(float(np.corrcoef(ours.ravel(), theirs.p_sim)[0, 1]), 4),
    }
