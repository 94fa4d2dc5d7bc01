"""Create PyFlink table environments wired to the project's connector jars.

Local by default: a mini-cluster inside the Python process. On a cluster the
same job file is submitted with ``flink run -py`` and these settings are
overridden by the cluster's configuration.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from features.local_time import DISTRICT_TZ_NAME
from pipelines.errors import SettingsError
from pipelines.io.kafka_security import flink_connector_options
from pipelines.settings import Settings

__all__ = [
    "connector_jars",
    "streaming_table_env",
    "kafka_source_options",
    "kafka_keyed_sink_options",
    "execute_insert",
    "execute_statements",
]


def connector_jars(settings: Settings) -> list[Path]:
    """The connector jars resolved by ``infra/jars.sh`` (resolving them if needed)."""
    override = os.environ.get("ZONGZHI_CONNECTOR_JARS")
    if override:
        folder = Path(override)
    else:
        script = settings.root / "infra" / "jars.sh"
        try:
            out = subprocess.run(
                ["bash", str(script), "path", "connectors"],
                check=True,
                capture_output=True,
                text=True,
            )
        except subprocess.CalledProcessError as exc:
            raise SettingsError(f"could not resolve connector jars: {exc.stderr.strip()}") from None
        folder = Path(out.stdout.strip())
    jars = sorted(folder.glob("*.jar"))
    if not jars:
        raise SettingsError(f"no connector jars in {folder}; run infra/jars.sh")
    return jars


def _site_packages_on_pythonpath() -> None:
    """Put this interpreter's site-packages on ``PYTHONPATH``.

    Thread mode runs Python functions in an interpreter embedded in the JVM
    (pemja), which finds the venv's packages only through ``PYTHONPATH``;
    the JVM inherits it from this process, so it must be set before the
    gateway starts.
    """
    import site

    paths = [p for p in site.getsitepackages() if os.path.isdir(p)]
    current = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    root = str(Path(__file__).resolve().parents[2])
    wanted = [p for p in [root, *paths] if p not in current]
    if wanted:
        os.environ["PYTHONPATH"] = os.pathsep.join(current + wanted)


def streaming_table_env(
    settings: Settings,
    *,
    parallelism: int = 1,
    checkpoint_interval_s: int | None = None,
    jars: bool = True,
    python_mode: str = "process",
):
    """A streaming ``TableEnvironment`` with the Kafka connector on its classpath.

    ``python_mode`` is Flink's ``python.execution-mode``: ``'thread'`` runs
    Python functions inside the JVM (no inter-process hop), ``'process'``
    in a separate worker.
    """
    from pyflink.table import EnvironmentSettings, TableEnvironment

    if python_mode not in ("process", "thread"):
        raise SettingsError(f"python_mode={python_mode!r} must be 'process' or 'thread'")
    if python_mode == "thread":
        _site_packages_on_pythonpath()
    # The local mini-cluster runs in the gateway JVM, which PyFlink starts with
    # JVM_ARGS; without a bound its heap defaults to a quarter of the RAM.
    os.environ.setdefault("JVM_ARGS", settings.section("flink").text("jvm_args"))
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = t_env.get_config()
    if jars:
        config.set(
            "pipeline.jars", ";".join(p.resolve().as_uri() for p in connector_jars(settings))
        )
    config.set("parallelism.default", str(parallelism))
    config.set("python.executable", sys.executable)
    config.set("python.client.executable", sys.executable)
    config.set("table.local-time-zone", DISTRICT_TZ_NAME)
    config.set("pipeline.name", "zongzhi")
    config.set("python.execution-mode", python_mode)
    flink = settings.section("flink")
    config.set("execution.buffer-timeout", f"{int(flink['buffer_timeout_ms'])} ms")
    config.set("pipeline.auto-watermark-interval", f"{int(flink['auto_watermark_interval_ms'])} ms")
    if checkpoint_interval_s:
        config.set("execution.checkpointing.interval", f"{checkpoint_interval_s} s")
    return t_env


def kafka_source_options(
    settings: Settings, group_id: str, topics: list[str], follow: bool, principal: str
) -> str:
    """WITH-clause options of a Kafka source table (format options not included).

    Both modes resume where the consumer group left off (from the earliest
    offset for a new group); without ``follow`` the source stops at the end
    offsets it sees when the job starts. The source connects as
    ``principal`` (:mod:`pipelines.io.kafka_security`).
    """
    options = [
        "'connector' = 'kafka'",
        f"'topic' = '{';'.join(topics)}'",
        *flink_connector_options(settings, principal),
        f"'properties.group.id' = '{group_id}'",
        "'scan.startup.mode' = 'group-offsets'",
        "'properties.auto.offset.reset' = 'earliest'",
    ]
    if not follow:
        options.append("'scan.bounded.mode' = 'latest-offset'")
    return ",\n            ".join(options)


def kafka_keyed_sink_options(
    settings: Settings, topics: list[str], key_field: str, principal: str
) -> str:
    """WITH-clause options of a Kafka sink writing a raw key and a raw value.

    With several ``topics``, a writable ``topic`` metadata column picks each
    row's topic among them. The sink connects as ``principal``.
    """
    return ",\n            ".join(
        [
            "'connector' = 'kafka'",
            f"'topic' = '{';'.join(topics)}'",
            *flink_connector_options(settings, principal),
            "'sink.delivery-guarantee' = 'at-least-once'",
            "'key.format' = 'raw'",
            f"'key.fields' = '{key_field}'",
            "'value.format' = 'raw'",
            "'value.fields-include' = 'EXCEPT_KEY'",
        ]
    )


def execute_insert(
    settings: Settings,
    t_env,
    insert: str,
    *,
    follow: bool,
    group_id: str,
    topics: list[str],
    principal: str,
) -> None:
    """Run an INSERT job: until stopped with ``follow``, else bounded, then commit offsets.

    ``principal`` is the source's, which commits the group's offsets.
    """
    from pipelines.io.kafka import run_bounded

    if follow:
        t_env.execute_sql(insert).wait()
    else:
        run_bounded(
            settings,
            group_id,
            topics,
            lambda: t_env.execute_sql(insert).wait(),
            principal=principal,
        )


def execute_statements(
    settings: Settings,
    t_env,
    inserts: list[str],
    *,
    follow: bool,
    group_id: str,
    topics: list[str],
    principal: str,
) -> None:
    """Run several INSERTs as one job (one source read), like :func:`execute_insert`."""
    from pipelines.io.kafka import run_bounded

    def submit():
        statements = t_env.create_statement_set()
        for insert in inserts:
            statements.add_insert_sql(insert)
        statements.execute().wait()

    if follow:
        submit()
    else:
        run_bounded(settings, group_id, topics, submit, principal=principal)
