"""The ``zongzhi`` command's argument types, and a parser that fails in one line.

Each type turns a bad value into an error that names it and says what is
allowed; :class:`OneLineParser` raises it as a :class:`~pipelines.errors.UsageError`.

Examples
--------
>>> positive(int)("3"), fraction("0.25"), iso_date("2026-11-27")
(3, 0.25, '2026-11-27')
>>> surge_spec("busiest:public_order.fight:60:30:3")
('busiest', 'public_order.fight', 60.0, 30.0, 3.0)
>>> choice_list(("a", "b"))("b,a")
('b', 'a')
"""

from __future__ import annotations

import argparse
from datetime import date, datetime

from features.local_time import DISTRICT_TZ
from pipelines.errors import UsageError

__all__ = [
    "OneLineParser",
    "iso_time",
    "iso_date",
    "positive",
    "seconds_list",
    "fraction",
    "surge_spec",
    "surge_multiplier",
    "choice_list",
]


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not argparse's usage block."""

    def error(self, message):
        """Raise a one-line :class:`UsageError` instead of printing argparse's usage block."""
        raise UsageError(f"{self.prog}: {message}")


def iso_time(text: str) -> datetime:
    """An ISO-8601 time; one without a zone is in the district's."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 time such as 2026-11-27T08:00:00+08:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=DISTRICT_TZ)


def iso_date(text: str) -> str:
    """A date, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-11-27") from None


def seconds_list(text: str) -> tuple[float, ...]:
    """Positive seconds, comma-separated.

    Examples
    --------
    >>> seconds_list("0.5,1")
    (0.5, 1.0)
    """
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or any(not v > 0 for v in values):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of positive seconds, such as 0.5,1"
        )
    return values


def positive(kind):
    """The argument type of a number of ``kind`` (``int`` or ``float``) > 0."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def fraction(text: str) -> float:
    """A number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} must lie in [0, 1]")
    return value


def surge_spec(text: str):
    """CELL:CATEGORY:START_MIN:DURATION_MIN:MULTIPLIER, CELL may be 'busiest'."""
    parts = text.split(":")
    if len(parts) != 5:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be CELL:CATEGORY:START_MIN:DURATION_MIN:MULTIPLIER "
            "(CELL may be 'busiest')"
        )
    cell, category, start, duration, multiplier = parts
    try:
        return cell, category, float(start), float(duration), float(multiplier)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: START_MIN, DURATION_MIN and MULTIPLIER must be numbers"
        ) from None


def surge_multiplier(text: str) -> float:
    """A surge's multiple of the baseline, > 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 1 (times the baseline)")
    return value


def choice_list(allowed: tuple[str, ...]):
    """The argument type of a comma-separated list of names from ``allowed``, no repeats."""

    def parse(text: str) -> tuple[str, ...]:
        names = tuple(n.strip() for n in text.split(","))
        unknown = [n for n in names if n not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"{text!r}: {', '.join(map(repr, unknown))} not among: {', '.join(allowed)}"
            )
        if len(set(names)) != len(names):
            raise argparse.ArgumentTypeError(f"{text!r} names a value twice")
        return names

    parse.__name__ = "list of names"
    return parse
