"""The rotation table in the lake, and the tokens the lake and the latest graph hold.

``<lake>/<pseudonymization.rotation_table>/to_version=<n>/rotation.parquet``
holds one row per old token (:data:`features.token_rotation.ROTATION_COLUMNS`)
that ``zongzhi keys rotate`` found in the lake's events, the latest graph
snapshot and the published watch list, with the token of version ``n`` it
becomes. Only the newest table is kept: it maps tokens of *every* older
version, so it supersedes the ones before. The file is written aside and
renamed, so readers never see half of it. It holds tokens only, never a
key or a clear value, and is as sensitive as the lake itself.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features.token_rotation import ROTATION_COLUMNS
from pipelines.settings import Settings

__all__ = [
    "ROTATION_FILE",
    "rotation_folder",
    "rotation_tables",
    "current_rotation_table",
    "write_rotation_table",
    "lake_token_texts",
]

ROTATION_FILE = "rotation.parquet"
_FOLDER = re.compile(r"to_version=([1-9][0-9]*)")
_SCHEMA = pa.schema(
    [
        ("old_token", pa.string()),
        ("new_token", pa.string()),
        ("from_version", pa.int32()),
        ("to_version", pa.int32()),
    ]
)


def rotation_folder(settings: Settings) -> Path:
    """The lake folder that holds the rotation tables."""
    return settings.lake / settings.section("pseudonymization")["rotation_table"]


def rotation_tables(settings: Settings) -> dict[int, Path]:
    """Each rotation table's target version and file, oldest first."""
    folder = rotation_folder(settings)
    if not folder.is_dir():
        return {}
    found = {}
    for child in folder.iterdir():
        match = _FOLDER.fullmatch(child.name)
        if match and (child / ROTATION_FILE).is_file():
            found[int(match.group(1))] = child / ROTATION_FILE
    return dict(sorted(found.items()))


def current_rotation_table(settings: Settings) -> tuple[int, Path] | None:
    """The newest rotation table's version and file, or None when there is none."""
    tables = rotation_tables(settings)
    if not tables:
        return None
    version = max(tables)
    return version, tables[version]


def write_rotation_table(settings: Settings, rows: dict, to_version: int) -> Path:
    """Write the table of ``to_version`` (aside, then renamed) and drop the older ones."""
    folder = rotation_folder(settings) / f"to_version={to_version}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ROTATION_FILE
    aside = folder / f".{ROTATION_FILE}.tmp"
    table = pa.table({name: rows[name] for name in ROTATION_COLUMNS}, schema=_SCHEMA)
    pq.write_table(table, aside)
    os.replace(aside, path)
    for version, older in rotation_tables(settings).items():
        if version < to_version:
            shutil.rmtree(older.parent)
    return path


def _strings(array) -> list:
    """The distinct strings anywhere inside an Arrow array (structs and lists walked)."""
    if isinstance(array, pa.ChunkedArray):
        return [s for chunk in array.chunks for s in _strings(chunk)]
    kind = array.type
    if pa.types.is_struct(kind):
        return [s for i in range(kind.num_fields) for s in _strings(array.field(i))]
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _strings(array.flatten())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.unique(array).to_pylist()
    return []


def _file_strings(path: Path, columns: list[str] | None = None) -> list:
    schema = pq.read_schema(path)
    wanted = [c for c in (columns or schema.names) if c in schema.names]
    table = pq.read_table(path, columns=wanted)
    return [s for name in wanted for s in _strings(table.column(name))]


def lake_token_texts(settings: Settings) -> tuple[set, dict]:
    """Every string of the lake that may hold a token, and how many files of each place were read.

    The places: the events table (event ids, persons, vehicles and attributes), the
    latest graph snapshot (every file) and the published watch list.
    """
    texts: set = set()
    counts = {"events_files": 0, "graph_files": 0, "watch_list_files": 0}
    events = settings.lake_table("normalized")
    for path in sorted(events.rglob("*.parquet")):
        texts.update(_file_strings(path, ["event_id", "persons", "vehicles", "attributes_json"]))
        counts["events_files"] += 1
    graph = settings.lake_table("graph")
    nights = sorted(p for p in graph.glob("as_of=*") if p.is_dir()) if graph.is_dir() else []
    if nights:
        for path in sorted(nights[-1].rglob("*.parquet")):
            if path.is_file():
                texts.update(_file_strings(path))
                counts["graph_files"] += 1
    watch = settings.lake_table("watch_list")
    for path in sorted(watch.glob("*.parquet")) if watch.is_dir() else []:
        texts.update(_file_strings(path))
        counts["watch_list_files"] += 1
    return texts, counts
