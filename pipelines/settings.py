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
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipelines.errors import SettingsError

__all__ = [
    "CHANNELS",
    "JIT_MODES",
    "Settings",
    "Section",
    "SettingsError",
    "jit_options",
    "load_settings",
    "project_root",
]

#: The channels events arrive by, each with its raw topic ``raw_<channel>``.
CHANNELS = ("grid", "hotline", "video")


def project_root() -> Path:
    """The checkout: ``ZONGZHI_ROOT``, else the folder above this package."""
    return Path(os.environ.get("ZONGZHI_ROOT") or Path(__file__).resolve().parent.parent)


CONFIG_HINT = "infra/config/zongzhi.yaml"


#: The longest slide or window Flink's day-to-minute intervals hold (99 days).
_MAX_WINDOW_MINUTES = 99 * 1440

#: The JVM options of each ``jvm.jit`` mode: the JVM's default (C1, then C2
#: for hot code), or C1 only.
JIT_MODES = {"tiered": "", "quick": "-XX:TieredStopAtLevel=1"}


def jit_options(mode: str) -> str:
    """The JVM options of the JIT ``mode``; a mode not in :data:`JIT_MODES` is refused by name.

    >>> jit_options("quick")
    '-XX:TieredStopAtLevel=1'
    >>> jit_options("fast")
    Traceback (most recent call last):
    ...
    pipelines.errors.SettingsError: jvm.jit='fast' must be one of: tiered, quick (ZONGZHI_JIT overrides it); see infra/config/zongzhi.yaml
    """
    if mode not in JIT_MODES:
        raise SettingsError(
            f"jvm.jit={mode!r} must be one of: {', '.join(JIT_MODES)} "
            f"(ZONGZHI_JIT overrides it); see {CONFIG_HINT}"
        )
    return JIT_MODES[mode]


class Section(Mapping):
    """One section of the configuration, read by key.

    A missing key, or a value of the wrong kind, raises
    :class:`SettingsError` naming ``section.key`` and the file to fix.

    Examples
    --------
    >>> s = Section("district", {"seed": "7", "name": "密云区"})
    >>> s.integer("seed"), s["name"]
    (7, '密云区')
    >>> s["code"]
    Traceback (most recent call last):
    ...
    pipelines.errors.SettingsError: the configuration lacks district.code; see infra/config/zongzhi.yaml
    >>> Section("district", {"seed": "x"}).integer("seed")
    Traceback (most recent call last):
    ...
    pipelines.errors.SettingsError: district.seed='x' must be an integer; see infra/config/zongzhi.yaml
    """

    def __init__(self, name: str, values: Mapping | None, source: str = CONFIG_HINT):
        self.name = name
        self._values = dict(values or {})
        self._source = source

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise SettingsError(
                f"the configuration lacks {self.name}.{key}; see {self._source}"
            ) from None

    def __contains__(self, key) -> bool:
        return key in self._values

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` when the configuration leaves it out."""
        return self._values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Section({self.name!r}, {self._values!r})"

    def require(self, keys: Iterable[str]) -> Section:
        """This section, after checking that every one of ``keys`` is there."""
        missing = [key for key in keys if key not in self._values]
        if missing:
            raise SettingsError(
                f"the {self.name} section of the configuration lacks "
                f"{', '.join(missing)}; see {self._source}"
            )
        return self

    def _typed(self, key: str, kind: type, label: str):
        value = self[key]
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise SettingsError(
                f"{self.name}.{key}={value!r} must be {label}; see {self._source}"
            ) from None

    def integer(self, key: str) -> int:
        """``section.key`` as an integer."""
        return self._typed(key, int, "an integer")

    def number(self, key: str) -> float:
        """``section.key`` as a float."""
        return self._typed(key, float, "a number")

    def text(self, key: str) -> str:
        """``section.key`` as a string."""
        return self._typed(key, str, "text")

    def flag(self, key: str) -> bool:
        """``section.key`` as true or false (YAML's booleans; nothing else is taken for one).

        >>> Section("flink", {"x": "yes"}).flag("x")
        Traceback (most recent call last):
        ...
        pipelines.errors.SettingsError: flink.x='yes' must be true or false; see infra/config/zongzhi.yaml
        """
        value = self[key]
        if not isinstance(value, bool):
            raise SettingsError(
                f"{self.name}.{key}={value!r} must be true or false; see {self._source}"
            )
        return value


@dataclass(frozen=True)
class Settings:
    """The parsed configuration plus the resolved state folder."""

    raw: dict
    root: Path
    var: Path

    # --- Kafka -------------------------------------------------------------
    @property
    def kafka_bootstrap(self) -> str:
        """The brokers (``ZONGZHI_KAFKA_BOOTSTRAP`` overrides the file)."""
        return os.environ.get("ZONGZHI_KAFKA_BOOTSTRAP") or self.section("kafka").text(
            "bootstrap_servers"
        )

    def topic(self, name: str) -> str:
        """The topic declared under ``kafka.topics.<name>``."""
        topics = self.section("kafka")["topics"]
        if name not in topics:
            raise SettingsError(f"topic {name!r} is not declared; declared: {', '.join(topics)}")
        return topics[name]

    @property
    def declared_topics(self) -> list[str]:
        """Every topic declared under ``kafka.topics``, in the file's order."""
        return list(self.section("kafka")["topics"].values())

    @property
    def raw_topics(self) -> dict[str, str]:
        """Channel name → raw topic."""
        return self.channel_topics("raw")

    def channel_topics(self, prefix: str) -> dict[str, str]:
        """Channel name → the topic declared as ``<prefix>_<channel>`` (``raw``, ``bench_raw``)."""
        return {channel: self.topic(f"{prefix}_{channel}") for channel in CHANNELS}

    @property
    def clear_data_topics(self) -> list[str]:
        """Topics that hold raw records, clear personal data included: every ``*raw_*`` name."""
        topics = self.section("kafka")["topics"]
        return [topic for name, topic in topics.items() if re.search(r"(^|_)raw_", name)]

    # --- PostgreSQL --------------------------------------------------------
    @property
    def pg(self) -> dict:
        """The ``postgres:`` section with host and port overrides applied."""
        pg = dict(self.section("postgres"))
        pg["host"] = os.environ.get("ZONGZHI_PG_HOST") or pg["host"]
        pg["port"] = int(os.environ.get("ZONGZHI_PG_PORT") or pg["port"])
        return pg

    @property
    def pg_reconnect_seconds(self) -> tuple[float, float]:
        """The first and the longest wait between attempts to reach PostgreSQL again.

        ``postgres.reconnect_initial_seconds`` doubles after each failed
        attempt up to ``postgres.reconnect_max_seconds``.
        """
        section = self.section("postgres")
        initial = section.number("reconnect_initial_seconds")
        maximum = section.number("reconnect_max_seconds")
        if not 0 < initial <= maximum:
            raise SettingsError(
                f"postgres.reconnect_initial_seconds={initial:g} and "
                f"postgres.reconnect_max_seconds={maximum:g} must satisfy 0 < initial <= max; "
                f"see {CONFIG_HINT}"
            )
        return initial, maximum

    def pg_password(self) -> str:
        """The PostgreSQL password: ``ZONGZHI_PG_PASSWORD``, else the secrets file."""
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
        """A libpq connection string for psycopg2."""
        pg = self.pg
        return (
            f"host={pg['host']} port={pg['port']} dbname={pg['database']} "
            f"user={pg['user']} password={self.pg_password()} connect_timeout=5"
        )

    def pg_jdbc_url(self) -> str:
        """The JDBC URL Spark writes the serving tables through."""
        pg = self.pg
        return f"jdbc:postgresql://{pg['host']}:{pg['port']}/{pg['database']}"

    # --- Superset ----------------------------------------------------------
    @property
    def superset_url(self) -> str:
        """Superset's base URL."""
        s = self.section("superset")
        return f"http://{s['host']}:{s['port']}"

    # --- JVMs ----------------------------------------------------------------
    @property
    def jit(self) -> str:
        """The engines' JIT mode: ``jvm.jit``, which ``ZONGZHI_JIT`` overrides; checked."""
        mode = os.environ.get("ZONGZHI_JIT") or self.section("jvm").text("jit")
        jit_options(mode)  # an unknown mode is refused here, by name
        return mode

    @property
    def jit_options(self) -> str:
        """The JVM options of :attr:`jit`, for the engines' JVMs (Flink's gateway, Spark's driver)."""
        return jit_options(self.jit)

    # --- Lake --------------------------------------------------------------
    @property
    def lake(self) -> Path:
        """The lake folder (``ZONGZHI_LAKE`` overrides; relative paths are under ``var/``)."""
        path = Path(os.environ.get("ZONGZHI_LAKE") or self.section("lake")["path"])
        return path if path.is_absolute() else self.var / path

    def lake_table(self, name: str) -> Path:
        """The folder of the lake table declared as ``lake.<name>_table``."""
        return self.lake / self.section("lake")[f"{name}_table"]

    # --- Sections --------------------------------------------------------------
    def section(self, name: str, keys: Iterable[str] = ()) -> Section:
        """The ``name:`` section, checked for every one of ``keys``.

        The one way to read the configuration: a missing section or key
        raises :class:`SettingsError` naming it.
        """
        return Section(name, self.raw.get(name)).require(keys)

    @property
    def hotspot(self) -> Section:
        """The ``hotspot:`` section (windows, budget, detector thresholds), its windows checked.

        The slide is a whole number of minutes from 1 minute to 99 days; the
        window a whole number of slides; each scan duration a whole number
        of slides no longer than the window. A bad value raises
        :class:`SettingsError` naming its key, before any job starts.
        """
        section = self.section(
            "hotspot", ["window_slide_minutes", "window_size_minutes", "scan_durations_minutes"]
        )
        slide = section.integer("window_slide_minutes")
        size = section.integer("window_size_minutes")
        where = f"see {section._source}"
        if not 1 <= slide <= _MAX_WINDOW_MINUTES:
            raise SettingsError(
                f"hotspot.window_slide_minutes={slide!r} must be from 1 minute to 99 days "
                f"({_MAX_WINDOW_MINUTES}); {where}"
            )
        if size < slide or size % slide or size > _MAX_WINDOW_MINUTES:
            raise SettingsError(
                f"hotspot.window_size_minutes={size!r} must be a whole number of slides "
                f"(window_slide_minutes={slide}), at most 99 days; {where}"
            )
        durations = section["scan_durations_minutes"]
        if not isinstance(durations, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and slide <= d <= size and d % slide == 0
            for d in durations
        ):
            raise SettingsError(
                f"hotspot.scan_durations_minutes={durations!r} must list whole numbers of slides "
                f"({slide} min) no longer than the window ({size} min); {where}"
            )
        _check_threshold_factor("hotspot.threshold_factor", section.get("threshold_factor"), where)
        power = section.get("zone_weight_power")
        if power is not None and (
            isinstance(power, bool) or not isinstance(power, (int, float)) or not 0 <= power <= 4
        ):
            raise SettingsError(
                f"hotspot.zone_weight_power={power!r} must be a number from 0 (every zone "
                f"alike) to 4 (the scan's weight toward busy zones); {where}"
            )
        _check_longer_scales(section.get("longer_scales"), slide, where)
        return section

    @property
    def simulator(self) -> Section:
        """The ``simulator:`` section (rates, channel mix, identity noise)."""
        return self.section("simulator")

    @property
    def contract(self) -> Section:
        """The ``contract:`` section (version, allowed clock skew)."""
        return self.section("contract")

    # --- Derived objects ----------------------------------------------------
    @property
    def towns_file(self) -> Path:
        """The district's town list (relative paths are taken from the checkout)."""
        return self._in_checkout(self.section("district")["towns_file"])

    @property
    def jurisdiction_policy_file(self) -> Path:
        """The centers and what each may see (relative paths are taken from the checkout)."""
        return self._in_checkout(self.section("jurisdiction")["policy_file"])

    def _in_checkout(self, value) -> Path:
        path = Path(value)
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


def _check_longer_scales(scales, base_slide: int, where: str) -> None:
    """Check ``hotspot.longer_scales`` (see :mod:`models.time_scales`); raise naming the key.

    Each scale has a new name; a slide that is a whole number of base
    slides and divides a day or is whole days; a window of whole slides up
    to 99 days; durations of whole slides within it; a budget share in
    (0, 1), the shares together below 1 (the base window keeps the rest).
    """
    if scales is None:
        return
    if not isinstance(scales, list):
        raise SettingsError(f"hotspot.longer_scales={scales!r} must be a list of scales; {where}")
    names, shares = {"minutes"}, 0.0
    for i, scale in enumerate(scales):
        key = f"hotspot.longer_scales[{i}]"
        if not isinstance(scale, dict):
            raise SettingsError(f"{key}={scale!r} must be a mapping; {where}")
        missing = {
            "name",
            "slide_minutes",
            "window_minutes",
            "durations_minutes",
            "budget_share",
        } - set(scale)
        if missing:
            raise SettingsError(f"{key} lacks {', '.join(sorted(missing))}; {where}")
        name, slide, size = scale["name"], scale["slide_minutes"], scale["window_minutes"]
        durations, share = scale["durations_minutes"], scale["budget_share"]
        if not isinstance(name, str) or not name or name in names:
            raise SettingsError(
                f"{key}.name={name!r} must be a new, non-empty name (taken: "
                f"{', '.join(sorted(names))}); {where}"
            )
        names.add(name)

        def whole(value) -> bool:
            return isinstance(value, int) and not isinstance(value, bool) and value > 0

        if (
            not whole(slide)
            or slide % base_slide
            or not (1440 % slide == 0 or slide % 1440 == 0)
            or slide > _MAX_WINDOW_MINUTES
        ):
            raise SettingsError(
                f"{key}.slide_minutes={slide!r} must be a whole number of base slides "
                f"(window_slide_minutes={base_slide}) that divides a day or is whole days; {where}"
            )
        if not whole(size) or size % slide or size > _MAX_WINDOW_MINUTES:
            raise SettingsError(
                f"{key}.window_minutes={size!r} must be a whole number of its slides "
                f"({slide} min), at most 99 days; {where}"
            )
        if (
            not isinstance(durations, list)
            or not durations
            or not all(whole(d) and d % slide == 0 and d <= size for d in durations)
        ):
            raise SettingsError(
                f"{key}.durations_minutes={durations!r} must list whole numbers of its slides "
                f"({slide} min) no longer than its window ({size} min); {where}"
            )
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
            raise SettingsError(f"{key}.budget_share={share!r} must lie in (0, 1); {where}")
        shares += share
        _check_threshold_factor(f"{key}.threshold_factor", scale.get("threshold_factor"), where)
    if not shares < 1:
        raise SettingsError(
            f"hotspot.longer_scales' budget shares add up to {shares:g}; they must leave the "
            f"base window a part of the budget (below 1); {where}"
        )


def _check_threshold_factor(key: str, value, where: str) -> None:
    """A threshold factor is absent (1) or a finite number > 0; raise naming the key."""
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value < float("inf")
    ):
        raise SettingsError(
            f"{key}={value!r} must be a positive number (the calibrated multiple of the "
            f"budget's per-look threshold; 1 when absent); {where}"
        )
