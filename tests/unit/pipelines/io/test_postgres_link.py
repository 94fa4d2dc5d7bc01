"""Waiting for PostgreSQL: the backoff, which errors are worth waiting for, one line per outage."""

from __future__ import annotations

import logging
from itertools import islice
from pathlib import Path

import psycopg2
import pytest

from pipelines.errors import SettingsError
from pipelines.io.postgres_link import (
    PostgresLink,
    backoff_delays,
    is_connection_lost,
    refusal_reason,
)
from pipelines.settings import Settings

#: A port nothing listens on: every attempt is refused at once.
NOWHERE = {"host": "127.0.0.1", "port": 9, "database": "zongzhi", "user": "zongzhi"}


def _settings(**postgres) -> Settings:
    section = {**NOWHERE, "reconnect_initial_seconds": 1, "reconnect_max_seconds": 4, **postgres}
    return Settings(raw={"postgres": section}, root=Path("."), var=Path("/nonexistent"))


class _GiveUp(Exception):
    """Raised by the test's clock to end an endless wait."""


def test_the_backoff_doubles_up_to_its_bound():
    assert list(islice(backoff_delays(0.5, 5), 6)) == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert list(islice(backoff_delays(3, 3), 3)) == [3.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (
            'connection to server at "127.0.0.1", port 15432 failed: FATAL:  password '
            'authentication failed for user "zongzhi"',
            'password authentication failed for user "zongzhi"',
        ),
        (
            'connection to server at "127.0.0.1", port 15432 failed: FATAL:  database '
            '"zongzhx" does not exist',
            'database "zongzhx" does not exist',
        ),
        (
            'connection to server on socket "/s/.s.PGSQL.15432" failed: FATAL:  Peer '
            'authentication failed for user "postgres"',
            'Peer authentication failed for user "postgres"',
        ),
    ],
)
def test_a_refusal_is_not_waited_for(message, reason):
    assert refusal_reason(psycopg2.OperationalError(message)) == reason
    assert not is_connection_lost(psycopg2.OperationalError(message))


@pytest.mark.parametrize(
    "message",
    [
        'connection to server at "127.0.0.1", port 15432 failed: Connection refused\n'
        "\tIs the server running on that host and accepting TCP/IP connections?",
        "server closed the connection unexpectedly\n"
        "\tThis probably means the server terminated abnormally",
        "terminating connection due to administrator command",
        'connection to server at "127.0.0.1", port 15432 failed: FATAL:  the database system '
        "is starting up",
    ],
)
def test_a_server_that_is_down_or_gone_is_waited_for(message):
    assert refusal_reason(psycopg2.OperationalError(message)) is None
    assert is_connection_lost(psycopg2.OperationalError(message))
    assert is_connection_lost(psycopg2.InterfaceError("connection already closed"))
    assert not is_connection_lost(psycopg2.errors.UniqueViolation("duplicate key"))


def test_the_link_waits_with_the_backoff_and_logs_the_outage_once(monkeypatch, caplog):
    monkeypatch.setenv("ZONGZHI_PG_PASSWORD", "unused")
    waited = []

    def clock(seconds):
        waited.append(seconds)
        if len(waited) == 5:
            raise _GiveUp

    link = PostgresLink(_settings(), "store-alerts", sleep=clock)
    with caplog.at_level(logging.INFO, logger="pipelines.io.postgres_link"):
        with pytest.raises(_GiveUp):
            link.connect()
    assert waited == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert link.outages == 1
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(lines) == 1
    assert lines[0].startswith("store-alerts: PostgreSQL at 127.0.0.1:9 is unreachable (")
    assert lines[0].endswith("waiting for it, retrying every 1 to 4 s")


def test_a_refusal_noted_mid_way_raises_a_settings_error():
    link = PostgresLink(_settings(), "store-alerts")
    refused = psycopg2.OperationalError(
        'connection to server at "127.0.0.1", port 9 failed: FATAL:  password authentication '
        'failed for user "zongzhi"'
    )
    with pytest.raises(
        SettingsError,
        match=r"^PostgreSQL at 127.0.0.1:9 refused store-alerts: password authentication failed "
        r'for user "zongzhi"; check postgres.user',
    ):
        link.lost(refused)
    assert link.outages == 0


@pytest.mark.parametrize(
    ("initial", "maximum"), [(0, 5), (6, 5), (-1, 1)], ids=["zero", "above-max", "negative"]
)
def test_backoff_bounds_out_of_order_are_refused(initial, maximum):
    settings = _settings(reconnect_initial_seconds=initial, reconnect_max_seconds=maximum)
    with pytest.raises(SettingsError, match=r"must satisfy 0 < initial <= max"):
        _ = settings.pg_reconnect_seconds
    assert _settings().pg_reconnect_seconds == (1.0, 4.0)
