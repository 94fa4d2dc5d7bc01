"""Checkpoints on disk and bounded restarts of the Flink jobs (pipelines/io/flink.py).

Real Flink mini-clusters, no Kafka: a generated stream stands in for the topics.
"""

from __future__ import annotations

import copy
import time

import pytest

from pipelines.errors import ServiceError
from pipelines.io.flink import (
    checkpoint_folder,
    execute_insert,
    latest_checkpoint,
    streaming_table_env,
)
from pipelines.io.kafka_security import PLATFORM
from pipelines.settings import Settings, load_settings

pytestmark = pytest.mark.integration

# JobManager-memory checkpoints refused state above this (Flink's default).
_MEMORY_STATE_LIMIT = 5 * 1024 * 1024


def _settings(tmp_path, **flink) -> Settings:
    base = load_settings()
    raw = copy.deepcopy(base.raw)
    raw["flink"].update(flink)
    return Settings(raw=raw, root=base.root, var=tmp_path)


def _checkpoint_bytes(checkpoint) -> int:
    return sum(f.stat().st_size for f in checkpoint.rglob("*") if f.is_file())


def test_state_above_the_memory_limit_is_checkpointed_to_var_and_kept_on_cancel(tmp_path):
    settings = _settings(tmp_path)
    t_env = streaming_table_env(settings, checkpoint_interval_s=2, jars=False, job="big-state")
    # ~200,000 distinct keys with 100 characters each: well over 5 MB of keyed state.
    t_env.execute_sql("""
        CREATE TEMPORARY TABLE generated (k BIGINT, s STRING) WITH (
            'connector' = 'datagen', 'rows-per-second' = '40000',
            'fields.k.kind' = 'random', 'fields.k.min' = '1', 'fields.k.max' = '200000',
            'fields.s.length' = '100')""")
    t_env.execute_sql("""
        CREATE TEMPORARY TABLE sink (k BIGINT, s STRING, n BIGINT)
        WITH ('connector' = 'blackhole')""")
    result = t_env.execute_sql(
        "INSERT INTO sink SELECT k, MAX(s), COUNT(*) FROM generated GROUP BY k"
    )
    client = result.get_job_client()
    folder = checkpoint_folder(settings, "big-state")
    big = None
    deadline = time.monotonic() + 180
    try:
        while big is None and time.monotonic() < deadline:
            status = client.get_job_status().result().name
            assert status in ("CREATED", "INITIALIZING", "RUNNING"), status
            done = latest_checkpoint(folder)
            if done is not None and _checkpoint_bytes(done) > _MEMORY_STATE_LIMIT:
                big = done
            time.sleep(1)
    finally:
        client.cancel().result()
    assert big is not None, f"no checkpoint over {_MEMORY_STATE_LIMIT} bytes in {folder}"
    assert folder == tmp_path / "checkpoints" / "big-state"
    # Retained on cancel: the job started again finds it.
    kept = latest_checkpoint(folder)
    assert kept is not None and (kept / "_metadata").is_file()
    assert _checkpoint_bytes(kept) > _MEMORY_STATE_LIMIT


def test_a_failing_job_restarts_the_configured_times_then_fails_in_one_line(tmp_path):
    from pyflink.table import DataTypes
    from pyflink.table.udf import udf

    settings = _settings(tmp_path, restart_attempts=2, restart_delay_seconds=1)
    calls = tmp_path / "calls"
    calls.write_text("")

    @udf(result_type=DataTypes.BIGINT())
    def explode(x):
        with open(calls, "a") as out:
            out.write("call\n")
        raise RuntimeError(f"poison record {x}")

    t_env = streaming_table_env(settings, jars=False, job="failing")
    t_env.create_temporary_function("explode", explode)
    t_env.create_temporary_view("poison", t_env.from_elements([(7,)], ["x"]))
    t_env.execute_sql("CREATE TEMPORARY TABLE sink (y BIGINT) WITH ('connector' = 'blackhole')")
    with pytest.raises(
        ServiceError,
        match=r"^Flink job failing failed and was not restarted again: .*poison record 7",
    ):
        execute_insert(
            settings,
            t_env,
            "INSERT INTO sink SELECT explode(x) FROM poison",
            follow=True,
            group_id="unused",
            topics=[],
            principal=PLATFORM,
        )
    # The first attempt and two restarts, each stopped by the same record.
    assert calls.read_text().splitlines() == ["call"] * 3
