from datetime import date

from jobs.graph.risk import risk_span

DAY_MS = 86_400_000
#: 2026-11-02 00:00 in Beijing (UTC+8) is 2026-11-01 16:00 UTC:
#: (20758 days since 1970-01-01 * 86400 + 16 * 3600) s.
NOV_2_MS = 1_793_548_800_000


def test_the_span_starts_at_the_first_days_midnight_and_cuts_before_the_horizon():
    days = [date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]
    assert risk_span(days, 2) == (NOV_2_MS, NOV_2_MS + DAY_MS, NOV_2_MS + 3 * DAY_MS)


def test_the_span_counts_the_days_of_the_window_not_the_calendar():
    days = [date(2026, 11, 2), date(2026, 11, 5), date(2026, 11, 6), date(2026, 11, 7)]
    assert risk_span(days, 1) == (NOV_2_MS, NOV_2_MS + 3 * DAY_MS, NOV_2_MS + 4 * DAY_MS)


def test_a_window_no_longer_than_the_horizon_says_why():
    days = [date(2026, 11, 2), date(2026, 11, 3)]
    assert risk_span(days, 2) == "2 day(s) in the window; the risk model needs more than 2"
