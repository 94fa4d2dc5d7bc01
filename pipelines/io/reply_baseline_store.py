"""``serving.reply_baseline``: the 12345 reference the closed-loop dashboard compares with.

:func:`publish_reply_baseline` replaces the table's rows in one
transaction, so the dashboard never reads half a reference.
"""

from __future__ import annotations

import psycopg2
from psycopg2 import sql

from pipelines.errors import ServiceError
from pipelines.settings import Settings

__all__ = ["TABLE", "publish_reply_baseline"]

TABLE = "reply_baseline"


def publish_reply_baseline(
    settings: Settings, rows: list[tuple[int, str, int, int, int]], source: str
) -> str:
    """Replace the reference with ``rows`` (``order, label, days, within, total``); the table's name."""
    schema = settings.pg["schema"]
    table = sql.Identifier(schema, TABLE)
    try:
        conn = psycopg2.connect(settings.pg_dsn(), connect_timeout=5)
    except psycopg2.OperationalError as exc:
        raise ServiceError(
            f"PostgreSQL is not reachable to publish the reply baseline ({str(exc).strip()}): "
            "run `zongzhi infra up`"
        ) from None
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("DELETE FROM {}").format(table))
            cur.executemany(
                sql.SQL(
                    "INSERT INTO {} (bucket_order, bucket, days, within_count, total, source) "
                    "VALUES (%s, %s, %s, %s, %s, %s)"
                ).format(table),
                [(*row, source) for row in rows],
            )
    finally:
        conn.close()
    return f"{schema}.{TABLE}"
