"""``zongzhi keys rotate`` and ``zongzhi keys status``: a new key version and its rotation table.

Rotating to version ``n``:

1. the key store gets a random key ``v<n>.key`` (unless version ``n``
   already exists: then only step 2 runs again, which makes the command
   idempotent and lets it pick up records normalized with the old key
   that reached the lake after the rotation);
2. every token the lake's events, the latest graph snapshot and the
   published watch list hold, of a version below ``n``, is linked to its
   token of version ``n`` in ``<lake>/key_rotation/to_version=<n>/``
   (:mod:`pipelines.io.rotation_table`);
3. the published watch list is rewritten with the tokens of version ``n``,
   so that the hotspot job keeps alerting on new records.

New records get tokens of version ``n`` once the normalization job is
restarted (it reads the keys when it starts); the graph job maps old
tokens through the table (``jobs/graph/key_rotation.py``).
"""

from __future__ import annotations

import logging
import stat
from collections import Counter

import psycopg2
import pyarrow.parquet as pq

from features.token_rotation import relink, rotation_rows
from pipelines.errors import SettingsError, UsageError
from pipelines.io.key_store import key_store
from pipelines.io.rotation_table import (
    lake_token_texts,
    rotation_tables,
    write_rotation_table,
)
from pipelines.io.watch_list_store import WATCH_FILE, publish_watch_list
from pipelines.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["rotate_keys", "key_status"]


def rotate_keys(settings: Settings, to_version: int | None = None) -> dict:
    """Make ``to_version`` (default: the next) the current key version and write its table.

    Returns the report: the version, whether a key was created, the rows
    of the table by the version they come from, and the table's path.
    Raises :class:`~pipelines.errors.UsageError` for a version that is
    neither the current one nor the next, or a new version while the keys
    come from the environment (whose owner adds keys; the table is still
    written for the current version).
    """
    store = key_store(settings)
    current = store.chain().version
    target = current + 1 if to_version is None else to_version
    if store.from_environment and target != current:
        raise UsageError(
            f"the pseudonymization keys come from {store.env_name}, which zongzhi cannot "
            "write; append the new key there (comma-separated, `openssl rand -hex 32`), then "
            f"run `zongzhi keys rotate --to-version {current + 1}` to write its rotation table"
        )
    if target not in (current, current + 1):
        raise UsageError(
            f"--to-version {target} provided, but the keys are at version {current}; "
            f"allowed: {current} (rewrite its rotation table) or {current + 1} (rotate)"
        )
    created = target == current + 1
    if created:
        store.add_version()
    chain = store.chain()
    texts, scanned = lake_token_texts(settings)
    try:
        rows = rotation_rows(texts, chain)
    except ValueError as exc:
        raise UsageError(f"the lake cannot be rotated: {exc}") from None
    path = write_rotation_table(settings, rows, chain.version)
    link = dict(zip(rows["old_token"], rows["new_token"]))
    relinked = _relink_watch_list(settings, link)
    reviewed = _relink_watch_proposals(settings, link)
    return {
        "version": chain.version,
        "key_created": created,
        "tokens_linked": len(rows["old_token"]),
        "tokens_linked_by_version": {
            f"v{v}": n for v, n in sorted(Counter(rows["from_version"]).items())
        },
        "scanned": scanned,
        "table": str(path),
        "watch_list_relinked": relinked,
        "watch_proposals_relinked": reviewed,
    }


def _relink_watch_list(settings: Settings, link: dict) -> int:
    """Rewrite the published watch list with current tokens; how many rows changed.

    The hotspot job matches new records, which carry the new version's
    tokens once normalization restarts, against this file; without it
    watch-list alerts would pause until the next graph run.
    """
    folder = settings.lake_table("watch_list")
    path = folder / WATCH_FILE
    if not link or not path.is_file():
        return 0
    import pandas as pd

    watch = pd.read_parquet(path)
    before = watch.astype(str)
    for column in watch.columns:
        watch[column] = [relink(v, link) for v in watch[column]]
    changed = int((watch.astype(str) != before).any(axis=1).sum())
    if changed:
        publish_watch_list(folder, watch)
    return changed


#: The columns of ``duty.watch_proposals`` that hold tokens.
_PROPOSAL_TOKENS = ("vehicle_node", "persons", "via_vehicle", "plate_hashes", "plate_fold_hash")


def _relink_watch_proposals(settings: Settings, link: dict) -> int | None:
    """Relink the reviewed proposals in PostgreSQL too; how many changed (None: unreachable).

    The alert service republishes the watched list from them after every
    decision: without this, a decision after a rotation would publish old
    tokens again.
    """
    if not link:
        return 0
    try:
        conn = psycopg2.connect(settings.pg_dsn(), connect_timeout=5)
    except (psycopg2.OperationalError, SettingsError, KeyError) as exc:
        log.warning(
            "watch-list proposals not relinked: PostgreSQL is unreachable or not configured (%s)",
            exc,
        )
        return None
    changed = 0
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                f"SELECT proposal_id, {', '.join(_PROPOSAL_TOKENS)} FROM duty.watch_proposals"
            )
            for proposal_id, *values in cur.fetchall():
                new = [relink(v, link) for v in values]
                if new != values:
                    changed += 1
                    cur.execute(
                        "UPDATE duty.watch_proposals SET "
                        + ", ".join(f"{c} = %s" for c in _PROPOSAL_TOKENS)
                        + " WHERE proposal_id = %s",
                        (*new, proposal_id),
                    )
    finally:
        conn.close()
    return changed


def key_status(settings: Settings) -> dict:
    """The key versions, where they come from, their files' modes and the rotation tables."""
    store = key_store(settings)
    chain = store.chain()
    files = {}
    if not store.from_environment:
        for version in store.versions():
            path = store.path(version)
            files[f"v{version}"] = f"{stat.S_IMODE(path.stat().st_mode):o}"
    tables = {
        f"to_version={v}": pq.read_metadata(path).num_rows
        for v, path in rotation_tables(settings).items()
    }
    return {
        "version": chain.version,
        "source": store.env_name if store.from_environment else str(store.folder),
        "key_file_modes": files,
        "rotation_tables": tables,
    }
