"""Which exceptions the CLI reports as one line instead of a traceback."""
from __future__ import annotations

__all__ = ["ServiceError", "ServiceUnavailable", "usage_errors", "platform_errors",
           "one_line"]


class ServiceError(RuntimeError):
    """A local service could not be started, stopped or reached."""


class ServiceUnavailable(ServiceError):
    """A service the command needs does not answer."""


def usage_errors() -> tuple[type[BaseException], ...]:
    """Bad input: exit 2."""
    from features.contract import ContractViolation
    return (ValueError, ContractViolation)


def platform_errors() -> tuple[type[BaseException], ...]:
    """A service or the platform failed: exit 1."""
    import psycopg2
    from confluent_kafka import KafkaException

    from jobs.graph import NoGraphData
    from jobs.nightly import NoLakeData
    from pipelines.kafka_io import KafkaUnavailable
    from pipelines.settings import SettingsError
    from py4j.protocol import Py4JError

    return (ServiceError, KafkaUnavailable, KafkaException, SettingsError, NoLakeData,
            NoGraphData, psycopg2.Error, OSError, Py4JError)


def one_line(exc: BaseException) -> str:
    """The sentence that says what went wrong, for a one-line error.

    A JVM error reaches Python as a Py4J error whose first line names only
    the Java call; the cause is the line after it.
    """
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].startswith("An error occurred while calling") and len(lines) > 1:
        return lines[1].lstrip(": ")
    return lines[0]
