"""Load the platform's declarations from ``infra/config/zongzhi.yaml``.

The file is the one place where hosts, ports, topics, tables, cell sizes,
windows and thresholds are named. Entry points call :func:`load_settings`
once and pass what they need down; nothing here runs at import time.

Overrides, for a cluster or a test: ``ZONGZHI_CONFIG`` names another file;
``ZONGZHI_KAFKA_BOOTSTRAP``, ``ZONGZHI_PG_HOST``, ``ZONGZHI_PG_PORT`` and
``ZONGZHI_LAKE`` replace single values. Runtime state (lake, secrets) lives
under ``ZONGZHI_VAR`` (default: ``var/`` in the checkout).
"""

from __future__ import annotations

import csv
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipelines.errors import SettingsError

__all__ = ["Settings", "SettingsError", "load_settings", "project_root"]


def project_root() -> Path:
    return Path(os.environ.get("ZONGZHI_ROOT") or Path(__file__).resolve().parent.parent)


@dataclass(frozen=True)
class Settings:
    """The parsed configuration plus the resolved state folder."""

    raw: dict
    root: Path
    var: Path

    # --- Kafka -------------------------------------------------------------
    @property
    def kafka_bootstrap(self) -> str:
        return os.environ.get("ZONGZHI_KAFKA_BOOTSTRAP") or self.raw["kafka"]["bootstrap_servers"]

    def topic(self, name: str) -> str:
        topics = self.raw["kafka"]["topics"]
        if name not in topics:
            raise SettingsError(f"topic {name!r} is not declared; declared: {', '.join(topics)}")
        return topics[name]

    @property
    def raw_topics(self) -> dict[str, str]:
        """Channel name → raw topic."""
        return {channel: self.topic(f"raw_{channel}") for channel in ("grid", "hotline", "video")}

    # --- PostgreSQL --------------------------------------------------------
    @property
    def pg(self) -> dict:
        pg = dict(self.raw["postgres"])
        pg["host"] = os.environ.get("ZONGZHI_PG_HOST") or pg["host"]
        pg["port"] = int(os.environ.get("ZONGZHI_PG_PORT") or pg["port"])
        return pg

    def pg_password(self) -> str:
        env = os.environ.get("ZONGZHI_PG_PASSWORD")
        if env:
            return env
        path = self.var / "secrets" / "postgres.password"
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            raise SettingsError(
                f"PostgreSQL password file {path} does not exist; run `zongzhi infra up` "
                "or set ZONGZHI_PG_PASSWORD"
            ) from None

    def pg_dsn(self) -> str:
        pg = self.pg
        return (
            f"host={pg['host']} port={pg['port']} dbname={pg['database']} "
            f"user={pg['user']} password={self.pg_password()} connect_timeout=5"
        )

    def pg_jdbc_url(self) -> str:
        pg = self.pg
        return f"jdbc:postgresql://{pg['host']}:{pg['port']}/{pg['database']}"

    # --- Superset ----------------------------------------------------------
    @property
    def superset_url(self) -> str:
        s = self.raw["superset"]
        return f"http://{s['host']}:{s['port']}"

    # --- Lake --------------------------------------------------------------
    @property
    def lake(self) -> Path:
        path = Path(os.environ.get("ZONGZHI_LAKE") or self.raw["lake"]["path"])
        return path if path.is_absolute() else self.var / path

    def lake_table(self, name: str) -> Path:
        return self.lake / self.raw["lake"][f"{name}_table"]

    # --- Sections used as plain dicts ---------------------------------------
    def section(self, name: str, keys) -> dict:
        """The ``name:`` section, checked for every one of ``keys``.

        Raises :class:`SettingsError` naming the missing keys.
        """
        section = self.raw.get(name) or {}
        missing = [key for key in keys if key not in section]
        if missing:
            raise SettingsError(
                f"the {name} section of the configuration lacks "
                f"{', '.join(missing)}; see infra/config/zongzhi.yaml"
            )
        return section

    @property
    def hotspot(self) -> dict:
        return self.raw["hotspot"]

    @property
    def simulator(self) -> dict:
        return self.raw["simulator"]

    @property
    def contract(self) -> dict:
        return self.raw["contract"]

    # --- Derived objects ----------------------------------------------------
    @property
    def towns_file(self) -> Path:
        """The district's town list (relative paths are taken from the checkout)."""
        path = Path(self.raw["district"]["towns_file"])
        return path if path.is_absolute() else self.root / path

    def town_rows(self) -> list[dict]:
        """The rows of the district's town list, as the CSV file gives them."""
        towns_file = self.towns_file
        try:
            with open(towns_file, newline="", encoding="utf-8") as fh:
                return list(csv.DictReader(fh))
        except FileNotFoundError:
            raise SettingsError(
                f"district.towns_file {towns_file} does not exist; it lists the towns "
                "of the district (see shared/data/miyun_towns.csv)"
            ) from None

    def pseudonym_secret(self, create: bool = False) -> str:
        """The pseudonymization secret: from the environment, else the key file.

        With ``create``, a missing key file is created with a random key
        (mode 600); the key is never part of the repository.
        """
        p = self.raw["pseudonymization"]
        env = os.environ.get(p["key_env"])
        if env:
            return env
        path = self.var / p["key_file"]
        if not path.exists():
            if not create:
                raise SettingsError(
                    f"pseudonymization key file {path} does not exist; set "
                    f"{p['key_env']} or run `zongzhi infra up`"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return path.read_text().strip()


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read the configuration file (``ZONGZHI_CONFIG`` or the default)."""
    root = project_root()
    path = Path(
        path or os.environ.get("ZONGZHI_CONFIG") or root / "infra" / "config" / "zongzhi.yaml"
    )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"configuration file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"configuration file {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"configuration file {path} must hold a mapping")
    var = Path(os.environ.get("ZONGZHI_VAR") or root / "var")
    return Settings(raw=raw, root=root, var=var)
