"""A PostgreSQL connection that waits for the server instead of failing.

Long-running writers (``zongzhi store-alerts --follow``) must outlive a
restart of PostgreSQL. :class:`PostgresLink` connects, and when the server
does not answer, or goes away, waits with a bounded exponential backoff
(``postgres.reconnect_initial_seconds`` doubling up to
``postgres.reconnect_max_seconds``) and connects again. It logs one line per
change of state (lost, back), never one per attempt.

An error that waiting cannot cure (a wrong password, a missing database or
role, no ``pg_hba.conf`` entry) is not waited for: it raises
:class:`~pipelines.errors.SettingsError` at once, naming what to fix.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from pipelines.errors import SettingsError
from pipelines.settings import Settings

__all__ = ["PostgresLink", "backoff_delays", "is_connection_lost", "refusal_reason"]

log = logging.getLogger(__name__)

#: Words of libpq's and the server's messages for a refusal that waiting cannot cure.
_REFUSALS = (
    "password authentication failed",
    "no password supplied",
    "peer authentication failed",
    "no pg_hba.conf entry",
    "does not exist",  # role or database
    "permission denied for database",
    "invalid connection option",
    "invalid dsn",
)


def backoff_delays(initial: float, maximum: float) -> Iterator[float]:
    """Seconds to wait before each further attempt: doubling from ``initial``, at most ``maximum``.

    >>> from itertools import islice
    >>> list(islice(backoff_delays(1, 30), 7))
    [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    """
    delay = float(initial)
    while True:
        yield min(delay, float(maximum))
        delay = min(delay * 2, float(maximum))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def refusal_reason(exc: BaseException) -> str | None:
    """The reason, when ``exc`` is a refusal that no wait will cure; else None.

    >>> refusal_reason(Exception('connection to server at "127.0.0.1", port 5432 failed: '
    ...                          'FATAL:  password authentication failed for user "zongzhi"'))
    'password authentication failed for user "zongzhi"'
    >>> refusal_reason(Exception("connection refused")) is None
    True
    """
    text = str(exc)
    lowered = text.lower()
    if any(words in lowered for words in _REFUSALS):
        lines = [line for line in text.strip().splitlines() if line.strip()]
        hit = [line for line in lines if any(w in line.lower() for w in _REFUSALS)]
        line = (hit or lines or [type(exc).__name__])[0]
        return line.rpartition("FATAL:")[2].strip()
    return None


def is_connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` means the server is gone (down, restarting, or the link broke)."""
    import psycopg2

    if not isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError):
        return False
    return refusal_reason(exc) is None


class PostgresLink:
    """One connection to PostgreSQL, re-made after the server comes back.

    Parameters
    ----------
    settings : Settings
        Where PostgreSQL is, and the backoff bounds.
    who : str
        The name of the writer, for the log lines.
    sleep : callable
        How to wait (seconds); :func:`time.sleep` in production.
    """

    def __init__(self, settings: Settings, who: str, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.who = who
        self.sleep = sleep
        self.outages = 0
        self._lost_at: float | None = None

    @property
    def _address(self) -> str:
        pg = self.settings.pg
        return f"{pg['host']}:{pg['port']}"

    def _refused(self, exc: BaseException) -> SettingsError:
        return SettingsError(
            f"PostgreSQL at {self._address} refused {self.who}: {refusal_reason(exc)}; "
            "check postgres.user and postgres.database in the configuration and the password "
            "(ZONGZHI_PG_PASSWORD, else var/secrets/postgres.password)"
        )

    def lost(self, exc: BaseException) -> None:
        """Note that the server went away during work (one log line per outage)."""
        if refusal_reason(exc) is not None:
            raise self._refused(exc) from None
        if self._lost_at is None:
            self._lost_at = time.monotonic()
            self.outages += 1
            initial, maximum = self.settings.pg_reconnect_seconds
            log.warning(
                "%s: PostgreSQL at %s is unreachable (%s); waiting for it, retrying every "
                "%g to %g s",
                self.who,
                self._address,
                _first_line(exc),
                initial,
                maximum,
            )

    def connect(self):
        """A new connection, once the server answers; waits as long as it takes."""
        import psycopg2

        delays = backoff_delays(*self.settings.pg_reconnect_seconds)
        while True:
            try:
                conn = psycopg2.connect(self.settings.pg_dsn())
            except psycopg2.OperationalError as exc:
                self.lost(exc)
                delay = next(delays)
                log.debug("%s: PostgreSQL still unreachable; next try in %g s", self.who, delay)
                self.sleep(delay)
                continue
            if self._lost_at is not None:
                log.warning(
                    "%s: PostgreSQL at %s answers again after %.0f s; resuming",
                    self.who,
                    self._address,
                    time.monotonic() - self._lost_at,
                )
                self._lost_at = None
            return conn
