"""Reading a point file for ``zongzhi replay``: the usable rows, and what broke the others.

The file is mapped onto events by an explicit adapter (see
:mod:`pipelines.harness.replay`): time from one column or several, place
from two columns in a named coordinate system, converted to WGS-84, and a
category code per row. A row that cannot be read is counted by reason, and
the first few are kept as examples with their line numbers.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from features.local_time import DISTRICT_TZ_NAME
from pipelines.errors import UsageError

__all__ = ["ReplayError", "ReplayPoints", "category_code", "time_zone", "to_wgs84", "read_points"]

_EXAMPLES = 5


class ReplayError(UsageError):
    """The replay cannot start: a bad argument or an unusable file."""


@dataclass
class ReplayPoints:
    """The readable rows of a file, and what was wrong with the others."""

    time_ms: list = field(default_factory=list)
    lon: list = field(default_factory=list)
    lat: list = field(default_factory=list)
    category: list = field(default_factory=list)
    #: The area each event's row names (``--zone-col``); empty: none read.
    area: list = field(default_factory=list)
    #: Minutes each time is known to when coarser than a minute (else 0); empty: all fine.
    resolution_min: list = field(default_factory=list)
    rows: int = 0
    broken: dict = field(default_factory=dict)
    examples: list = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        """Count a broken row by reason; keep the first few as examples."""
        self.broken[reason] = self.broken.get(reason, 0) + 1
        if len(self.examples) < _EXAMPLES:
            self.examples.append({"line": line, "reason": reason})


def category_code(text: str) -> str:
    """A category value as a code: lower case, runs of other characters as ``_``.

    Examples
    --------
    >>> category_code("Theft from Vehicle"), category_code("  B&E / Residential ")
    ('theft_from_vehicle', 'b_e_residential')
    """
    code = re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")
    return code or "unknown"


def _open(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def time_zone(name: str) -> ZoneInfo:
    """The named time zone; an unknown name is a :class:`ReplayError`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReplayError(
            f"--tz {name!r} is not a known time zone, e.g. Asia/Shanghai or UTC"
        ) from None


def _time_parser(columns: list[str], time_format: str | None, tz):
    if len(columns) > 1:

        def parse(row):
            parts = [int(float(row[c])) for c in columns]
            return datetime(*parts, tzinfo=tz)
    elif time_format:

        def parse(row):
            moment = datetime.strptime(row[columns[0]].strip(), time_format)
            return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    else:

        def parse(row):
            text = row[columns[0]].strip().replace("Z", "+00:00")
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=tz)

    return parse


def to_wgs84(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in ``crs`` to WGS-84 (lon, lat).

    Examples
    --------
    The first Vancouver theft (11XX Burnaby St, West End), UTM zone 10N metres:

    >>> lon, lat = to_wgs84(np.array([490320.299]), np.array([5458606.9208]), "EPSG:26910")
    >>> round(float(lon[0]), 4), round(float(lat[0]), 4)
    (-123.1331, 49.2801)
    """
    name = crs.strip().upper()
    if name in ("WGS84", "EPSG:4326"):
        return x, y
    if name in ("GCJ02", "BD09"):
        from features.coordinates import to_wgs84 as convert

        pairs = [convert(float(a), float(b), name) for a, b in zip(x, y)]
        return (np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    if not re.fullmatch(r"EPSG:\d+", name):
        raise ReplayError(f"--crs {crs!r} is not supported; use WGS84, GCJ02, BD09 or EPSG:<code>")
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        transformer = Transformer.from_crs(CRS.from_user_input(name), "EPSG:4326", always_xy=True)
    except CRSError:
        raise ReplayError(f"--crs {crs!r} is not a coordinate system pyproj knows") from None
    return transformer.transform(x, y)


def read_points(
    path: Path,
    *,
    time_col: str,
    x_col: str,
    y_col: str,
    crs: str,
    category_col: str | None = None,
    time_format: str | None = None,
    tz: str = DISTRICT_TZ_NAME,
    zone_col: str | None = None,
) -> ReplayPoints:
    """Read the usable rows of a CSV (or .csv.gz); count and describe the broken ones.

    With ``zone_col``, each point's area is that column's value, stripped
    (empty when the row names none).
    """
    if not path.is_file():
        raise ReplayError(f"{path} is not a readable file")
    zone = time_zone(tz)
    columns = [c.strip() for c in time_col.split(",") if c.strip()]
    parse_time = _time_parser(columns, time_format, zone)
    points = ReplayPoints()
    xs, ys = [], []
    try:
        with _open(path) as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            wanted = (
                columns
                + [x_col, y_col]
                + ([category_col] if category_col else [])
                + ([zone_col] if zone_col else [])
            )
            missing = [c for c in wanted if c not in header]
            if missing:
                raise ReplayError(
                    f"{path.name} has no column {missing[0]!r}; its columns are "
                    + ", ".join(header)
                )
            for row in reader:
                points.rows += 1
                line = reader.line_num
                if None in row or any(row.get(c) is None for c in wanted):
                    points.reject(line, "wrong number of fields")
                    continue
                try:
                    moment = parse_time(row)
                except (ValueError, TypeError, OverflowError):
                    points.reject(line, "unreadable time")
                    continue
                try:
                    x, y = float(row[x_col]), float(row[y_col])
                except ValueError:
                    points.reject(line, "unreadable coordinates")
                    continue
                if not (math.isfinite(x) and math.isfinite(y)) or (x == 0 and y == 0):
                    points.reject(line, "missing coordinates")
                    continue
                points.time_ms.append(int(moment.timestamp() * 1000))
                xs.append(x)
                ys.append(y)
                points.category.append(category_code(row[category_col]) if category_col else "all")
                if zone_col:
                    points.area.append(row[zone_col].strip())
    except (UnicodeDecodeError, csv.Error, OSError, EOFError) as exc:
        raise ReplayError(f"{path.name} is not a readable CSV: {exc}") from None
    if xs:
        lon, lat = to_wgs84(np.array(xs), np.array(ys), crs)
        good = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        for _ in np.flatnonzero(~good):
            points.reject(-1, "coordinates outside the coordinate system")
        keep = np.flatnonzero(good)
        points.lon = lon[keep].tolist()
        points.lat = lat[keep].tolist()
        points.time_ms = [points.time_ms[i] for i in keep]
        points.category = [points.category[i] for i in keep]
        if points.area:
            points.area = [points.area[i] for i in keep]
    return points
