"""Serving tables are replaced atomically (issue 12, defect 7).

Real PostgreSQL and Spark: a probe table in the serving schema with a
primary key, an index, a column default, comments, a grant and a view over
it is replaced through :func:`write_serving_table`, while a reader counts its
rows; a write that fails half-way leaves the old rows.
"""

from __future__ import annotations

import threading

import psycopg2
import pytest

from pipelines.harness.services import services_up
from pipelines.io.serving_store import staging_table_name, write_serving_table
from pipelines.io.spark import spark_session

from .conftest import district_settings

pytestmark = pytest.mark.integration

TABLE = "zz_swap_probe"
VIEW = "zz_swap_probe_tags"


@pytest.fixture(scope="module")
def settings():
    s = district_settings()
    services_up(s, ["postgres"])
    return s


@pytest.fixture(scope="module")
def spark(settings):
    session = spark_session(settings, "test-serving-store")
    yield session
    session.stop()


def _sql(settings, statement: str, args=()):
    with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
        cur.execute(statement, args)
        rows = cur.fetchall() if cur.description else None
    conn.close()
    return rows


@pytest.fixture
def probe(settings):
    """The probe table with 3 old rows (tag 'old'), and everything that hangs on it."""
    schema = settings.pg["schema"]
    _sql(
        settings,
        f"""
        DROP TABLE IF EXISTS {schema}.{TABLE} CASCADE;
        DROP TABLE IF EXISTS {schema}.{staging_table_name(TABLE)} CASCADE;
        CREATE TABLE {schema}.{TABLE} (
            id          bigint      NOT NULL,
            tag         text        NOT NULL,
            day         date        NOT NULL,
            computed_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT zz_swap_probe_pk PRIMARY KEY (id),
            CONSTRAINT zz_swap_probe_tag_ck CHECK (tag <> '')
        );
        CREATE INDEX zz_swap_probe_tag_idx ON {schema}.{TABLE} (tag, day DESC);
        COMMENT ON TABLE {schema}.{TABLE} IS '探针表';
        COMMENT ON COLUMN {schema}.{TABLE}.tag IS 'which write made the row';
        GRANT SELECT ON {schema}.{TABLE} TO PUBLIC;
        CREATE VIEW {schema}.{VIEW} AS
            SELECT tag, count(*) AS n FROM {schema}.{TABLE} GROUP BY tag;
        COMMENT ON VIEW {schema}.{VIEW} IS '探针视图';
        INSERT INTO {schema}.{TABLE} (id, tag, day)
            SELECT i, 'old', DATE '2026-11-01' FROM generate_series(1, 3) AS i;
        """,
    )
    yield f"{schema}.{TABLE}"
    _sql(settings, f"DROP TABLE IF EXISTS {schema}.{TABLE} CASCADE")


def _frame(spark, n: int, tag: str, partitions: int = 4):
    return spark.range(1, n + 1, numPartitions=partitions).selectExpr(
        "id", f"'{tag}' AS tag", "DATE '2026-11-02' AS day"
    )


def _tags(settings, probe):
    return _sql(settings, f"SELECT tag, count(*) FROM {probe} GROUP BY tag ORDER BY tag")


def _catalog(settings, probe):
    """What hangs on the table by name."""
    schema = settings.pg["schema"]
    return {
        "constraints": _sql(
            settings,
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass ORDER BY conname",
            (probe,),
        ),
        "indexes": _sql(
            settings,
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = %s AND tablename = %s ORDER BY indexname",
            (schema, TABLE),
        ),
        "comments": _sql(
            settings,
            "SELECT obj_description(%s::regclass, 'pg_class'), "
            "col_description(%s::regclass, 2), obj_description(%s::regclass, 'pg_class')",
            (probe, probe, f"{schema}.{VIEW}"),
        ),
        "public_select": _sql(
            settings, "SELECT has_table_privilege('public', %s, 'SELECT')", (probe,)
        ),
        "default": _sql(
            settings,
            "SELECT column_default FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s AND column_name = 'computed_at'",
            (schema, TABLE),
        ),
    }


def _staging_exists(settings) -> bool:
    schema = settings.pg["schema"]
    found = _sql(settings, "SELECT to_regclass(%s)", (f"{schema}.{staging_table_name(TABLE)}",))
    return found[0][0] is not None


def test_a_write_replaces_the_rows_and_keeps_what_hangs_on_the_table(settings, spark, probe):
    before = _catalog(settings, probe)
    write_serving_table(_frame(spark, 5, "new"), settings, TABLE)
    assert _tags(settings, probe) == [("new", 5)]
    assert _catalog(settings, probe) == before
    assert before["constraints"] == [
        ("zz_swap_probe_pk", "PRIMARY KEY (id)"),
        ("zz_swap_probe_tag_ck", "CHECK ((tag <> ''::text))"),
    ]
    assert before["comments"] == [("探针表", "which write made the row", "探针视图")]
    assert before["public_select"] == [(True,)]
    # The view over the table reads the new rows; the default filled computed_at.
    schema = settings.pg["schema"]
    assert _sql(settings, f"SELECT tag, n FROM {schema}.{VIEW}") == [("new", 5)]
    assert _sql(settings, f"SELECT count(*) FROM {probe} WHERE computed_at IS NULL") == [(0,)]
    assert not _staging_exists(settings)


def test_a_failure_mid_write_leaves_the_old_rows(settings, spark, probe):
    # 4,000 rows in 4 partitions; the row with id 3,500 fails its task after
    # the earlier partitions' rows were written.
    frame = spark.range(1, 4001, numPartitions=4).selectExpr(
        "id",
        "CASE WHEN id = 3500 THEN raise_error('probe write fails half-way') ELSE 'new' END AS tag",
        "DATE '2026-11-02' AS day",
    )
    with pytest.raises(Exception, match="probe write fails half-way"):
        write_serving_table(frame, settings, TABLE)
    assert _tags(settings, probe) == [("old", 3)]
    assert not _staging_exists(settings)


def test_rows_that_break_the_primary_key_leave_the_old_rows(settings, spark, probe):
    frame = spark.range(1, 11, numPartitions=2).selectExpr(
        "id % 5 AS id", "'new' AS tag", "DATE '2026-11-02' AS day"
    )
    with pytest.raises(psycopg2.errors.UniqueViolation):
        write_serving_table(frame, settings, TABLE)
    assert _tags(settings, probe) == [("old", 3)]
    assert not _staging_exists(settings)


def test_a_concurrent_reader_sees_the_old_rows_or_the_new_never_empty_or_partial(
    settings, spark, probe
):
    versions = [("a", 20_000), ("b", 12_000), ("a", 20_000), ("b", 12_000)]
    allowed = {(("old", 3),)} | {((tag, n),) for tag, n in versions}
    seen, errors = [], []
    done = threading.Event()

    def read():
        conn = psycopg2.connect(settings.pg_dsn())
        conn.autocommit = True  # each query its own READ COMMITTED snapshot, as Superset's
        try:
            with conn.cursor() as cur:
                while True:
                    last = done.is_set()
                    try:
                        cur.execute(f"SELECT tag, count(*) FROM {probe} GROUP BY tag ORDER BY tag")
                        seen.append(tuple(cur.fetchall()))
                    except psycopg2.Error as exc:
                        errors.append(str(exc).strip())
                    if last:
                        return
        finally:
            conn.close()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for tag, n in versions:
            write_serving_table(_frame(spark, n, tag), settings, TABLE)
    finally:
        done.set()
        reader.join()
    assert errors == []
    unexpected = sorted(set(seen) - allowed)
    assert unexpected == []
    assert seen[-1] == (("b", 12_000),)
