"""The serving tables in PostgreSQL, as the nightly jobs write them through Spark.

A night's rows replace the last night's atomically: Spark writes them into
a staging table beside the serving table, and one transaction then drops
the serving table and renames the staging table in its place. A reader
(Superset, a notebook) sees either the old rows or the new ones, never an
empty or a partial table: its query waits for the swap's lock and then
reads the new table by name. A write that fails leaves the old table as it
was. What hangs on the table by name is kept: its column defaults, NOT NULL
and check constraints, primary key, unique constraints and indexes (under
their names), comments, grants, owner, and the views over it (re-created
in the same transaction). Superset's datasets name the table, so they read
the new one.

A reader inside a REPEATABLE READ or SERIALIZABLE transaction whose snapshot
predates the swap sees the new table without its rows; Superset and the
platform's readers run each query in its own READ COMMITTED transaction.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field

from pipelines.errors import ServiceUnavailable
from pipelines.settings import Settings

__all__ = ["check_postgres", "write_serving_table", "staging_table_name", "verified_hotspots"]

log = logging.getLogger(__name__)

#: PostgreSQL's longest identifier, in bytes.
_MAX_IDENTIFIER = 63


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


def verified_hotspots(settings: Settings):
    """Hotspot alerts whose case the closed loop verified (已核查 or 已结案), as pandas.

    Columns: ``category``, ``cells``, ``window_start_ms`` and ``window_end_ms``
    (the alert's first window's start to its latest window's end).
    """
    import pandas as pd
    import psycopg2

    schema = settings.pg["schema"]
    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "SELECT a.category, a.cells, "
                "(extract(epoch FROM a.window_start) * 1000)::bigint, "
                "(extract(epoch FROM coalesce(a.updated_window_end, a.window_end)) * 1000)::bigint "
                f"FROM {schema}.alerts a JOIN duty.cases c ON c.alert_id = a.alert_id "
                "WHERE c.state IN ('verified', 'closed') AND a.cells IS NOT NULL"
            )
            rows = cur.fetchall()
    finally:
        conn.close()
    return pd.DataFrame(rows, columns=["category", "cells", "window_start_ms", "window_end_ms"])


def _identifier(name: str, suffix: str) -> str:
    """``name + suffix``, shortened with a hash of ``name`` to fit PostgreSQL's limit.

    >>> _identifier("daily_counts", "__next")
    'daily_counts__next'
    >>> len(_identifier("x" * 63, "__next"))
    63
    """
    whole = name + suffix
    if len(whole.encode()) <= _MAX_IDENTIFIER:
        return whole
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return name[: _MAX_IDENTIFIER - len(suffix) - 9] + "_" + digest + suffix


def staging_table_name(table: str) -> str:
    """The table a night's rows of ``table`` are written into before the swap.

    >>> staging_table_name("cell_trends")
    'cell_trends__next'
    """
    return _identifier(table, "__next")


@dataclass
class _Dependents:
    """What hangs on a serving table by name, read from the catalog before the swap."""

    owner: str
    comment: str | None
    grants: list[tuple[str, str, bool]] = field(default_factory=list)
    constraints: list[tuple[str, str]] = field(default_factory=list)
    indexes: list[tuple[str, str]] = field(default_factory=list)
    # (schema, name, kind 'v' or 'm', definition, owner, comment, grants), outermost last.
    views: list[tuple] = field(default_factory=list)


def _relation_grants(cur, oid: int, owner: str) -> list[tuple[str, str, bool]]:
    cur.execute(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, "
        "a.privilege_type, a.is_grantable "
        "FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = %s",
        (oid,),
    )
    return [(who, what, grantable) for who, what, grantable in cur.fetchall() if who != owner]


def _dependents(cur, schema: str, table: str) -> _Dependents | None:
    """The catalog entries a swap must carry over; None when the table does not exist."""
    cur.execute("SELECT to_regclass(%s)::oid", (f'"{schema}"."{table}"',))
    oid = cur.fetchone()[0]
    if oid is None:
        return None
    cur.execute(
        "SELECT pg_get_userbyid(relowner), obj_description(oid, 'pg_class') "
        "FROM pg_class WHERE oid = %s",
        (oid,),
    )
    owner, comment = cur.fetchone()
    found = _Dependents(owner=owner, comment=comment, grants=_relation_grants(cur, oid, owner))
    # Primary key, unique and exclusion constraints come with their index;
    # NOT NULL and check constraints are copied by CREATE TABLE ... LIKE.
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s AND contype IN ('p', 'u', 'x') ORDER BY conname",
        (oid,),
    )
    found.constraints = cur.fetchall()
    cur.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = %s) "
        "ORDER BY i.relname",
        (oid, oid),
    )
    found.indexes = cur.fetchall()
    # Views over the table, and views over those, each after what it reads.
    cur.execute(
        """
        WITH RECURSIVE deps(oid, depth) AS (
            SELECT DISTINCT r.ev_class, 1 FROM pg_depend d
            JOIN pg_rewrite r ON r.oid = d.objid
            WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = %s AND r.ev_class <> %s
          UNION
            SELECT r.ev_class, deps.depth + 1 FROM deps
            JOIN pg_depend d ON d.refobjid = deps.oid AND d.classid = 'pg_rewrite'::regclass
            JOIN pg_rewrite r ON r.oid = d.objid
            WHERE r.ev_class <> deps.oid
        )
        SELECT c.oid, n.nspname, c.relname, c.relkind, pg_get_viewdef(c.oid),
               pg_get_userbyid(c.relowner), obj_description(c.oid, 'pg_class')
        FROM (SELECT oid, max(depth) AS depth FROM deps GROUP BY oid) AS v
        JOIN pg_class c ON c.oid = v.oid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        ORDER BY v.depth, c.relname
        """,
        (oid, oid),
    )
    for view_oid, view_schema, name, kind, definition, view_owner, view_comment in cur.fetchall():
        found.views.append(
            (
                view_schema,
                name,
                kind,
                definition,
                view_owner,
                view_comment,
                _relation_grants(cur, view_oid, view_owner),
            )
        )
    return found


_INDEX_HEAD = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (?:ONLY )?\S+ USING ")


def _build_keys(cur, schema: str, staging: str, found: _Dependents) -> list[tuple]:
    """Build the serving table's constraints and indexes on the staging table.

    They get temporary names (the serving table holds the real ones until the
    swap); returns ``(kind, temporary, real)`` for the renames.
    """
    from psycopg2 import sql

    renames = []
    for i, (name, definition) in enumerate(found.constraints):
        temporary = _identifier(staging, f"_k{i}")
        cur.execute(
            sql.SQL("ALTER TABLE {}.{} ADD CONSTRAINT {} ").format(
                sql.Identifier(schema), sql.Identifier(staging), sql.Identifier(temporary)
            )
            + sql.SQL(definition)
        )
        renames.append(("constraint", temporary, name))
    for i, (name, definition) in enumerate(found.indexes):
        temporary = _identifier(staging, f"_i{i}")
        head = _INDEX_HEAD.match(definition)
        if head is None:
            raise RuntimeError(f"index {name} has a definition this code cannot copy: {definition}")
        cur.execute(
            sql.SQL("CREATE {}INDEX {} ON {}.{} USING ").format(
                sql.SQL(head.group(1) or ""),
                sql.Identifier(temporary),
                sql.Identifier(schema),
                sql.Identifier(staging),
            )
            + sql.SQL(definition[head.end() :])
        )
        renames.append(("index", temporary, name))
    return renames


def _grant(cur, target, grants) -> None:
    from psycopg2 import sql

    for who, what, grantable in grants:
        grantee = sql.SQL("PUBLIC") if who == "PUBLIC" else sql.Identifier(who)
        cur.execute(
            sql.SQL("GRANT {} ON {} TO {}{}").format(
                sql.SQL(what),
                target,
                grantee,
                sql.SQL(" WITH GRANT OPTION" if grantable else ""),
            )
        )


def _swap(cur, schema: str, table: str, staging: str, found, renames) -> None:
    """In the caller's transaction: drop the serving table, rename the staging one in its place."""
    from psycopg2 import sql

    target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    cur.execute(
        sql.SQL(
            "DROP TABLE IF EXISTS {} CASCADE"
            if found and found.views
            else "DROP TABLE IF EXISTS {}"
        ).format(target)
    )
    cur.execute(
        sql.SQL("ALTER TABLE {}.{} RENAME TO {}").format(
            sql.Identifier(schema), sql.Identifier(staging), sql.Identifier(table)
        )
    )
    for kind, temporary, name in renames:
        if kind == "constraint":  # renames its index too
            cur.execute(
                sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                    target, sql.Identifier(temporary), sql.Identifier(name)
                )
            )
        else:
            cur.execute(
                sql.SQL("ALTER INDEX {}.{} RENAME TO {}").format(
                    sql.Identifier(schema), sql.Identifier(temporary), sql.Identifier(name)
                )
            )
    if found is None:
        return
    cur.execute("SELECT current_user")
    if cur.fetchone()[0] != found.owner:
        cur.execute(
            sql.SQL("ALTER TABLE {} OWNER TO {}").format(target, sql.Identifier(found.owner))
        )
    if found.comment is not None:
        cur.execute(sql.SQL("COMMENT ON TABLE {} IS %s").format(target), (found.comment,))
    _grant(cur, target, found.grants)
    for view_schema, name, kind, definition, owner, comment, grants in found.views:
        view = sql.SQL("{}.{}").format(sql.Identifier(view_schema), sql.Identifier(name))
        what = "MATERIALIZED VIEW" if kind == "m" else "VIEW"
        cur.execute(
            sql.SQL("CREATE {} {} AS ").format(sql.SQL(what), view)
            + sql.SQL(definition.rstrip().rstrip(";"))
        )
        cur.execute(
            sql.SQL("ALTER {} {} OWNER TO {}").format(sql.SQL(what), view, sql.Identifier(owner))
        )
        if comment is not None:
            cur.execute(sql.SQL("COMMENT ON {} {} IS %s").format(sql.SQL(what), view), (comment,))
        _grant(cur, view, grants)


def _drop_quietly(conn, schema: str, staging: str) -> None:
    """Drop a failed write's staging table; a lost connection leaves it to the next write."""
    import psycopg2
    from psycopg2 import sql

    try:
        conn.rollback()
        with conn, conn.cursor() as cur:
            cur.execute(
                sql.SQL("DROP TABLE IF EXISTS {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(staging)
                )
            )
    except psycopg2.Error as exc:
        log.warning("could not drop the staging table %s.%s: %s", schema, staging, exc)


def write_serving_table(df, settings: Settings, table: str, *, keep_shape: bool = True) -> None:
    """Replace the rows of ``serving.<table>`` by a Spark frame's, atomically.

    The rows go into a staging table (:func:`staging_table_name`) over JDBC;
    one transaction then puts it in the serving table's place. With
    ``keep_shape`` (the default) the staging table is made like the serving
    table (columns, defaults, NOT NULL and check constraints), and its keys
    and indexes are built before the swap; without it (the frame's columns
    differ from the table's), Spark makes the staging table from the frame,
    and only the table's comment, grants, owner and views are carried over.
    A table that does not exist yet is made from the frame.

    A failure before the swap drops the staging table and leaves the serving
    table as it was.
    """
    import psycopg2
    from psycopg2 import sql

    pg = settings.pg
    schema = pg["schema"]
    staging = staging_table_name(table)
    staging_ref = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(staging))
    conn = psycopg2.connect(settings.pg_dsn())
    try:
        with conn, conn.cursor() as cur:
            # One writer per table at a time; released when the connection closes.
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"{schema}.{table}",))
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(staging_ref))
            found = _dependents(cur, schema, table)
            like = found is not None and keep_shape
            if like:
                cur.execute(
                    sql.SQL(
                        "CREATE TABLE {} (LIKE {}.{} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                        "INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE "
                        "INCLUDING COMPRESSION INCLUDING COMMENTS)"
                    ).format(staging_ref, sql.Identifier(schema), sql.Identifier(table))
                )
        try:
            (
                df.write.format("jdbc")
                .option("url", settings.pg_jdbc_url())
                .option("dbtable", f"{schema}.{staging}")
                .option("user", pg["user"])
                .option("password", settings.pg_password())
                .option("driver", "org.postgresql.Driver")
                .option("stringtype", "unspecified")
                .mode("append" if like else "overwrite")
                .save()
            )
            with conn, conn.cursor() as cur:
                renames = _build_keys(cur, schema, staging, found) if like else []
            with conn, conn.cursor() as cur:
                _swap(cur, schema, table, staging, found, renames)
        except BaseException:
            _drop_quietly(conn, schema, staging)
            raise
        log.info("serving table %s.%s replaced", schema, table)
    finally:
        conn.close()
