"""Which exceptions the CLI reports as one line instead of a traceback."""
from __future__ import annotations

__all__ = ["ServiceError", "usage_errors", "platform_errors"]


class ServiceError(RuntimeError):
    """A local service could not be started, stopped or reached."""


def usage_errors() -> tuple[type[BaseException], ...]:
    """Bad input: exit 2."""
    from features.contract import ContractViolation
    return (ValueError, ContractViolation)


def platform_errors() -> tuple[type[BaseException], ...]:
    """A service or the platform failed: exit 1."""
    import psycopg2
    from confluent_kafka import KafkaException

    from jobs.nightly import NoLakeData
    from pipelines.kafka_io import KafkaUnavailable
    from pipelines.settings import SettingsError
    return (ServiceError, KafkaUnavailable, KafkaException, SettingsError, NoLakeData,
            psycopg2.Error, OSError)
