"""The platform's error hierarchy, and how the CLI turns an error into one line.

A leaf module: it imports nothing of the project, so every layer may raise
these. The CLI maps them to exit codes:

* :class:`UsageError` — the user's input was wrong (exit 2);
* every other :class:`ZongzhiError` — a service or the platform failed (exit 1);
* anything else is a bug, and keeps its traceback.
"""

from __future__ import annotations

__all__ = [
    "ZongzhiError",
    "UsageError",
    "ServiceError",
    "ServiceUnavailable",
    "KafkaUnavailable",
    "SettingsError",
    "DataMissing",
    "NoLakeData",
    "NoGraphData",
    "one_line",
]


class ZongzhiError(Exception):
    """Base of every error the platform reports as one line."""


class UsageError(ZongzhiError, ValueError):
    """Bad input from the user: an argument, a file or a value that is not allowed."""


class ServiceError(ZongzhiError, RuntimeError):
    """A local service could not be started, stopped or reached."""


class ServiceUnavailable(ServiceError):
    """A service the command needs does not answer."""


class KafkaUnavailable(ServiceUnavailable):
    """The Kafka broker did not answer."""


class SettingsError(ZongzhiError, RuntimeError):
    """The configuration, or the state it points at, is unusable."""


class DataMissing(ZongzhiError, RuntimeError):
    """A job found nothing valid to work on."""


class NoLakeData(DataMissing):
    """The lake holds no events: nothing valid can be produced."""


class NoGraphData(DataMissing):
    """Nothing valid to build a graph from: no readable events in the window."""


def one_line(exc: BaseException) -> str:
    """The sentence that says what went wrong, for a one-line error.

    A JVM error reaches Python as a Py4J error whose first line names only
    the Java call; the cause is the line after it.

    Examples
    --------
    >>> one_line(UsageError("--hours '0' must be > 0\\nmore"))
    "--hours '0' must be > 0"
    >>> one_line(RuntimeError("An error occurred while calling o1.save.\\n: x.Failed: no"))
    'x.Failed: no'
    """
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].startswith("An error occurred while calling") and len(lines) > 1:
        return lines[1].lstrip(": ")
    return lines[0]
