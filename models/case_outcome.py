"""Did the place cool after its case closed? Observed against expected in the following windows.

After a hotspot's case closes, the events of its category in its cells over
the following hours are counted and compared with what the baselines
expect there. The place **cooled** when that count is not significantly
above expected: the one-sided Poisson p-value of seeing at least as many is
above ``alpha``. The ratio of observed to expected says by how much.

>>> verdict = cooling_verdict(observed=2, expected=1.5, alpha=0.05)
>>> verdict.cooled, round(verdict.p_value, 3), round(verdict.ratio, 2)
(True, 0.442, 1.33)
>>> cooling_verdict(observed=9, expected=1.5, alpha=0.05).cooled
False
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import poisson

__all__ = ["CoolingVerdict", "cooling_verdict"]


@dataclass(frozen=True)
class CoolingVerdict:
    """The comparison after closure, and whether the place cooled."""

    observed: int
    expected: float
    p_value: float
    ratio: float | None
    cooled: bool


def cooling_verdict(*, observed: int, expected: float, alpha: float) -> CoolingVerdict:
    """The verdict for ``observed`` events where ``expected`` were (a Poisson mean).

    With nothing expected (no baseline), any event is significant and none
    is a cooled place.
    """
    if observed < 0 or expected < 0 or not 0 < alpha < 1:
        raise ValueError(
            f"observed={observed!r} and expected={expected!r} must be >= 0, "
            f"alpha={alpha!r} in (0, 1)"
        )
    p = 1.0 if observed == 0 else float(poisson.sf(observed - 1, expected))
    ratio = observed / expected if expected > 0 else None
    return CoolingVerdict(int(observed), float(expected), p, ratio, p > alpha)
