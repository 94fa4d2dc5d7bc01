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

from pipelines.settings import Settings, SettingsError

__all__ = ["connector_jars", "streaming_table_env", "kafka_properties"]


def connector_jars(settings: Settings) -> list[Path]:
    """The connector jars resolved by ``infra/jars.sh`` (resolving them if needed)."""
    override = os.environ.get("ZONGZHI_CONNECTOR_JARS")
    if override:
        folder = Path(override)
    else:
        script = settings.root / "infra" / "jars.sh"
        try:
            out = subprocess.run(["bash", str(script), "path", "connectors"], check=True,
                                 capture_output=True, text=True)
        except subprocess.CalledProcessError as exc:
            raise SettingsError(f"could not resolve connector jars: {exc.stderr.strip()}") from None
        folder = Path(out.stdout.strip())
    jars = sorted(folder.glob("*.jar"))
    if not jars:
        raise SettingsError(f"no connector jars in {folder}; run infra/jars.sh")
    return jars


def streaming_table_env(settings: Settings, *, parallelism: int = 1,
                        checkpoint_interval_s: int | None = None, jars: bool = True):
    """A streaming ``TableEnvironment`` with the Kafka connector on its classpath."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = t_env.get_config()
    if jars:
        config.set("pipeline.jars", ";".join(p.resolve().as_uri() for p in connector_jars(settings)))
    config.set("parallelism.default", str(parallelism))
    config.set("python.executable", sys.executable)
    config.set("python.client.executable", sys.executable)
    config.set("table.local-time-zone", settings.contract["timezone"])
    config.set("pipeline.name", "zongzhi")
    if checkpoint_interval_s:
        config.set("execution.checkpointing.interval", f"{checkpoint_interval_s} s")
    return t_env


def kafka_properties(settings: Settings, group_id: str) -> str:
    """The common Kafka options of a Flink SQL table, as a WITH-clause fragment."""
    return (f"'properties.bootstrap.servers' = '{settings.kafka_bootstrap}', "
            f"'properties.group.id' = '{group_id}'")
