"""The serving tables in PostgreSQL, as the nightly jobs write them through Spark."""

from __future__ import annotations

from pipelines.errors import ServiceUnavailable
from pipelines.settings import Settings

__all__ = ["check_postgres", "write_serving_table"]


def check_postgres(settings: Settings) -> None:
    """Fail in a second, naming the address, when PostgreSQL does not answer."""
    import psycopg2

    try:
        psycopg2.connect(settings.pg_dsn()).close()
    except psycopg2.OperationalError as exc:
        reason = (str(exc).strip().splitlines() or ["no answer"])[0]
        raise ServiceUnavailable(
            f"PostgreSQL at {settings.pg['host']}:{settings.pg['port']} is unreachable "
            f"({reason}); start it with `zongzhi infra up`"
        ) from None


def write_serving_table(df, settings: Settings, table: str) -> None:
    """Replace the rows of ``serving.<table>`` by a Spark frame's, over JDBC.

    The table is truncated, not dropped, so its grants and Superset's
    datasets on it survive.
    """
    pg = settings.pg
    (
        df.write.format("jdbc")
        .option("url", settings.pg_jdbc_url())
        .option("dbtable", f"{pg['schema']}.{table}")
        .option("user", pg["user"])
        .option("password", settings.pg_password())
        .option("driver", "org.postgresql.Driver")
        .option("truncate", "true")
        .option("stringtype", "unspecified")
        .mode("overwrite")
        .save()
    )
