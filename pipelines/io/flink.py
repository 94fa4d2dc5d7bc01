"""Create PyFlink table environments wired to the project's connector jars.

Local by default: a mini-cluster inside the Python process. On a cluster the
same job file is submitted with ``flink run -py`` and these settings are
overridden by the cluster's configuration.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from features.local_time import DISTRICT_TZ_NAME
from pipelines.errors import ServiceError, SettingsError
from pipelines.io.kafka_security import flink_connector_options
from pipelines.settings import Settings

__all__ = [
    "connector_jars",
    "streaming_table_env",
    "class_archive_args",
    "checkpoint_folder",
    "latest_checkpoint",
    "kafka_source_options",
    "kafka_keyed_sink_options",
    "execute_insert",
    "execute_statements",
    "job_failure_cause",
]

log = logging.getLogger(__name__)


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
    checkpoint_interval_s: float | None = None,
    jars: bool = True,
    python_mode: str = "process",
    job: str | None = None,
    fresh: bool = False,
    datastream: bool = False,
):
    """A streaming ``TableEnvironment`` with the Kafka connector on its classpath.

    ``python_mode`` is Flink's ``python.execution-mode``: ``'thread'`` runs
    Python functions inside the JVM (no inter-process hop), ``'process'``
    in a separate worker.

    With ``checkpoint_interval_s`` and a ``job`` name, checkpoints go to
    :func:`checkpoint_folder` and are kept when the job is cancelled or
    killed; the job resumes from the latest of them
    (:func:`latest_checkpoint`) unless ``fresh``. Every job gets the
    configured bounded restart strategy. ``datastream`` makes it a
    ``StreamTableEnvironment``, whose tables convert to and from DataStreams.
    """
    from pyflink.table import EnvironmentSettings, TableEnvironment

    if python_mode not in ("process", "thread"):
        raise SettingsError(f"python_mode={python_mode!r} must be 'process' or 'thread'")
    if python_mode == "thread":
        _site_packages_on_pythonpath()
    else:
        # On a local mini-cluster PyFlink otherwise serves every subtask's
        # Python functions from threads of this one process ("loopback"),
        # under one GIL, whatever the parallelism. Process mode proper gives
        # each subtask a worker process of its own, so parallelism uses cores.
        os.environ.setdefault("_python_worker_execution_mode", "process")
    # The local mini-cluster runs in the gateway JVM, which PyFlink starts with
    # JVM_ARGS (when this process makes its first environment); without a
    # bound its heap defaults to a quarter of the RAM. Set for that start
    # only: child processes (steps, bench runs) start JVMs of their own.
    given = os.environ.get("JVM_ARGS")
    if given is None:
        jvm_args = f"{settings.section('flink').text('jvm_args')} {settings.jit_options}".strip()
        os.environ["JVM_ARGS"] = f"{jvm_args} {class_archive_args(settings, jvm_args)}".strip()
    try:
        if datastream:
            from pyflink.datastream import StreamExecutionEnvironment
            from pyflink.table import StreamTableEnvironment

            t_env = StreamTableEnvironment.create(
                StreamExecutionEnvironment.get_execution_environment(),
                EnvironmentSettings.in_streaming_mode(),
            )
        else:
            t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    finally:
        if given is None:
            os.environ.pop("JVM_ARGS", None)
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
        # In milliseconds: Flink's durations take whole numbers (0.5 s is 500 ms).
        config.set("execution.checkpointing.interval", f"{round(checkpoint_interval_s * 1000)} ms")
    for key, value in _fault_tolerance_options(settings, job, bool(checkpoint_interval_s), fresh):
        config.set(key, value)
    return t_env


#: A class dump is adopted once untouched this long after its run ended.
ARCHIVE_SETTLE_S = 10.0


def class_archive_args(settings: Settings, jvm_args: str) -> str:
    """JVM flags that share the classes a gateway JVM loads across its runs (AppCDS).

    A gateway JVM loads some ten thousand classes before a job runs, which
    took a few seconds of every short job (a test's or a backfill's). The
    first run dumps what it loaded at its exit into a file of its own under
    ``<var>/cache``; a later run adopts a finished dump as the archive and
    maps it. The archive is keyed by PyFlink's and Python's versions, the
    JVM and its flags; its checksums are verified when it is mapped, and a
    JVM that cannot use it runs without it. ``flink.class_archive: false``
    turns this off.
    """
    from importlib.metadata import version

    flink = settings.section("flink")
    if not flink.flag("class_archive"):
        return ""
    java = os.environ.get("JAVA_HOME", "") or os.path.realpath(shutil.which("java") or "java")
    key = hashlib.sha256(
        f"{version('apache-flink')}|{sys.executable}|{sys.version}|{java}|{jvm_args}".encode()
    ).hexdigest()[:12]
    folder = settings.var / "cache"
    archive = folder / f"flink-classes-{key}.jsa"
    quiet = "-Xlog:cds=off -Xlog:cds+dynamic=off"
    for dump in sorted(folder.glob(f"flink-classes-{key}.*.dump")):
        writer = int(dump.suffixes[-2].lstrip("."))
        # Its run has ended and its JVM has been done writing for a while.
        if not _alive(writer) and time.time() - dump.stat().st_mtime > ARCHIVE_SETTLE_S:
            if archive.is_file():  # runs that started before there was one
                dump.unlink(missing_ok=True)
            else:
                os.replace(dump, archive)
    if archive.is_file():
        return f"-XX:SharedArchiveFile={archive} -XX:+VerifySharedSpaces {quiet}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return f"-XX:ArchiveClassesAtExit={folder / f'flink-classes-{key}.{os.getpid()}.dump'} {quiet}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_STATE_BACKENDS = ("hashmap", "rocksdb")


def checkpoint_folder(settings: Settings, job: str) -> Path:
    """Where ``job``'s checkpoints go: ``<var>/<flink.checkpoint_dir>/<job>``."""
    folder = Path(settings.section("flink").text("checkpoint_dir"))
    return (folder if folder.is_absolute() else settings.var / folder) / job


def latest_checkpoint(folder: Path) -> Path | None:
    """The newest completed checkpoint under ``folder`` (``<job id>/chk-<n>``), or None.

    A checkpoint is complete once Flink has written its ``_metadata``; the
    newest is the one whose metadata was written last.
    """
    done = [m for m in folder.glob("*/chk-*/_metadata") if m.is_file()]
    if not done:
        return None
    return max(done, key=lambda m: (m.stat().st_mtime_ns, int(m.parent.name[4:]))).parent


def _fault_tolerance_options(
    settings: Settings, job: str | None, checkpointed: bool, fresh: bool
) -> list[tuple[str, str]]:
    """Flink options: bounded restarts; checkpoint storage, retention and recovery of ``job``."""
    flink = settings.section("flink")
    options = [
        ("restart-strategy.type", "fixed-delay"),
        ("restart-strategy.fixed-delay.attempts", str(flink.integer("restart_attempts"))),
        ("restart-strategy.fixed-delay.delay", f"{flink.integer('restart_delay_seconds')} s"),
    ]
    if job:
        options.append(("pipeline.name", job))
    if not (checkpointed and job):
        return options
    backend = flink.text("state_backend")
    if backend not in _STATE_BACKENDS:
        raise SettingsError(f"flink.state_backend={backend!r} must be one of {_STATE_BACKENDS}")
    folder = checkpoint_folder(settings, job)
    folder.mkdir(parents=True, exist_ok=True)
    options += [
        ("state.backend.type", backend),
        ("execution.checkpointing.dir", folder.resolve().as_uri()),
        ("execution.checkpointing.num-retained", str(flink.integer("checkpoints_retained"))),
        (
            "execution.checkpointing.externalized-checkpoint-retention",
            "RETAIN_ON_CANCELLATION",
        ),
        (
            "execution.checkpointing.unaligned.enabled",
            str(flink.flag("unaligned_checkpoints")).lower(),
        ),
    ]
    resume = None if fresh else latest_checkpoint(folder)
    if resume is not None:
        log.info("job %s resumes from its checkpoint %s", job, resume)
        options.append(("execution.state-recovery.path", resume.resolve().as_uri()))
    return options


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
        # Only records of committed transactions (the jobs' sinks are transactional).
        "'properties.isolation.level' = 'read_committed'",
    ]
    if not follow:
        options.append("'scan.bounded.mode' = 'latest-offset'")
    return ",\n            ".join(options)


def kafka_keyed_sink_options(
    settings: Settings,
    topics: list[str],
    key_field: str,
    principal: str,
    sink_name: str | None = None,
) -> str:
    """WITH-clause options of a Kafka sink writing a raw key and a raw value.

    With several ``topics``, a writable ``topic`` metadata column picks each
    row's topic among them. Exactly once: the sink writes in Kafka
    transactions committed with each checkpoint (or at the end of a bounded
    run); ``sink_name`` (default: the topics) makes its transactional ids,
    ``<flink.transactional_id_prefix>.<sink_name>``, which must differ
    between the sinks of jobs that run at the same time. The sink connects
    as ``principal`` (:mod:`pipelines.io.kafka_security`).
    """
    flink = settings.section("flink")
    transactional_id = f"{flink.text('transactional_id_prefix')}.{sink_name or '.'.join(topics)}"
    return ",\n            ".join(
        [
            "'connector' = 'kafka'",
            f"'topic' = '{';'.join(topics)}'",
            *flink_connector_options(settings, principal),
            "'sink.delivery-guarantee' = 'exactly-once'",
            f"'sink.transactional-id-prefix' = '{transactional_id}'",
            f"'properties.transaction.timeout.ms' = '{flink.integer('transaction_timeout_ms')}'",
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
        _until_done(t_env, lambda: t_env.execute_sql(insert).wait())
    else:
        run_bounded(
            settings,
            group_id,
            topics,
            lambda: _until_done(t_env, t_env.execute_sql(insert).wait),
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
            if isinstance(insert, tuple):  # (sink table, Table), e.g. from a DataStream
                statements.add_insert(*insert)
            else:
                statements.add_insert_sql(insert)
        statements.execute().wait()

    if follow:
        _until_done(t_env, submit)
    else:
        run_bounded(
            settings, group_id, topics, lambda: _until_done(t_env, submit), principal=principal
        )


def _until_done(t_env, submit) -> None:
    """Run ``submit`` (a job, to its end); a failed job becomes one :class:`ServiceError`.

    The job has used up its restart attempts by then, or failed where no
    restart helps: an operational alert, logged as one line naming the job
    and the root cause, and the command exits 1 (``store-alerts`` and the
    demo report the exit too).
    """
    from py4j.protocol import Py4JJavaError

    try:
        submit()
    except Py4JJavaError as exc:
        job = t_env.get_config().get("pipeline.name", "zongzhi")
        message = (
            f"Flink job {job} failed and was not restarted again: {job_failure_cause(str(exc))}"
        )
        log.error("operational alert: %s", message)
        raise ServiceError(message) from None


def job_failure_cause(trace: str) -> str:
    r"""The root cause of a failed job, in one line: its last ``Caused by:``.

    A Python function's error arrives as a Java exception whose message is
    the Python traceback; its last line (the Python exception) is the cause.

    Examples
    --------
    >>> job_failure_cause("x.JobExecutionException: failed\n\tat a.b\n"
    ...                   "Caused by: org.apache.flink.runtime.JobException: Recovery is "
    ...                   "suppressed by FixedDelayRestartBackoffTimeStrategy\n\tat c.d\n"
    ...                   "Caused by: java.lang.RuntimeException: boom\n\tat e.f")
    'java.lang.RuntimeException: boom'
    >>> job_failure_cause("Caused by: java.lang.RuntimeException: Error received from SDK: "
    ...                   "Traceback (most recent call last):\n  File \"f.py\", line 1\n"
    ...                   "    raise RuntimeError('bad')\nRuntimeError: bad\n\n\tat g.h")
    'RuntimeError: bad'
    >>> job_failure_cause("no trace")
    'no trace'
    """
    lines = [line.strip() for line in trace.strip().splitlines() if line.strip()]
    starts = [i for i, line in enumerate(lines) if line.startswith("Caused by:")]
    if not starts:
        return lines[-1] if lines else "unknown cause"
    cause = [lines[starts[-1]][len("Caused by:") :].strip()]
    for line in lines[starts[-1] + 1 :]:
        if line.startswith("at ") or line.startswith("..."):
            break
        cause.append(line)
    return cause[-1] if "Traceback (most recent call last)" in cause[0] else cause[0]
