"""Watch-list alerts: a watched vehicle read at a sensitive checkpoint, raised at once.

The nightly graph job publishes the watch list (:mod:`models.watch_list`)
to ``<lake>/watch_list/``; the hotspot job's statement set carries one more
statement, per plate read and not per window:

1. Flink SQL keeps the plate reads of the sensitive checkpoints
   (:mod:`features.sensitive_sites`, fixed when the job starts) and unnests
   their vehicles: every other event stops there, in the JVM;
2. a Python table function (:class:`WatchAlerter`) looks the read's plate
   tokens up in the watch list, which it re-reads when the nightly job
   replaces it, and yields an alert for a match;
3. the alert goes to the same ``alerts`` topic as hotspot alerts, with
   ``kind = "watch"``; :mod:`pipelines.streaming.alert_store` files it in
   ``serving.watch_alerts``.

The read is not held for a window or a watermark: the alert leaves as soon
as the read arrives. Reads the night that made the list already saw (up to
its latest event time, as a backfill replays them) raise nothing. A missing
or unreadable watch list watches nothing (logged), and the job goes on.
"""

from __future__ import annotations

import json
import logging
import time

from features.sensitive_sites import SensitiveCheckpoint, sensitive_checkpoints
from features.taxonomy import PLATE_READ
from models.watch_list import watch_alert
from pipelines.io.platform_state import load_district
from pipelines.io.watch_list_store import WatchListStore, watch_config
from pipelines.settings import Settings

__all__ = ["district_checkpoints", "WatchAlerter", "watch_reads_sql", "watch_function"]

log = logging.getLogger(__name__)


def district_checkpoints(settings: Settings) -> dict[str, SensitiveCheckpoint]:
    """The configured district's sensitive checkpoints."""
    config = watch_config(settings)
    return sensitive_checkpoints(
        load_district(settings), config["sensitive_site_kinds"], float(config["sensitive_radius_m"])
    )


class WatchAlerter:
    """What the Python table function runs per plate read at a sensitive checkpoint.

    Parameters
    ----------
    store : WatchListStore
        The published watch list, re-read when the nightly job replaces it.
    checkpoints : dict
        ``site_id -> SensitiveCheckpoint``: the checkpoints watched.
    slot_minutes : int
        Reads of one vehicle at one checkpoint within a slot make one alert.
    """

    def __init__(
        self, store: WatchListStore, checkpoints: dict[str, SensitiveCheckpoint], slot_minutes: int
    ):
        self.store = store
        self.checkpoints = checkpoints
        self.slot_minutes = int(slot_minutes)

    def alerts(
        self,
        event_id: str,
        event_time_ms: int,
        site_id: str,
        plate_hash: str | None,
        plate_fold_hash: str | None,
        now_ms: int,
    ) -> list[dict]:
        """The alert of one plate read: ``[alert]`` for a watched vehicle, else ``[]``.

        A read away from a sensitive checkpoint, without an event time, or
        that the night that built the list already saw, raises nothing.
        """
        checkpoint = self.checkpoints.get(site_id)
        if checkpoint is None or event_time_ms is None:
            return []
        found = self.store.current().match(plate_hash, plate_fold_hash, int(event_time_ms))
        if found is None:
            return []
        entry, how = found
        return [
            watch_alert(
                entry,
                how,
                checkpoint,
                event_id=event_id,
                event_time_ms=int(event_time_ms),
                plate_hash=plate_hash or "",
                emitted_at_ms=now_ms,
                slot_minutes=self.slot_minutes,
            )
        ]


def watch_reads_sql(
    site_ids, source_table: str = "events", sink_table: str = "watch_out"
) -> str | None:
    """The statement: plate reads at ``site_ids`` through ``watch_match`` to ``sink_table``.

    None when there is no sensitive checkpoint (nothing to watch).

    Examples
    --------
    >>> sql = watch_reads_sql(["LPR-1", "LPR-2"])
    >>> "site_id IN ('LPR-1', 'LPR-2')" in sql and "UNNEST(e.vehicles)" in sql
    True
    >>> watch_reads_sql([]) is None
    True
    """
    ids = sorted(site_ids)
    if not ids:
        return None
    for site in ids:
        if not site.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"site id {site!r} must be letters, digits, '-' or '_'")
    listed = ", ".join(f"'{s}'" for s in ids)
    return f"""INSERT INTO {sink_table}
        SELECT m.alert_id, m.alert
        FROM (SELECT e.event_id, e.event_time_ms, e.attributes.site_id AS site_id,
                     v.plate_hash, v.plate_fold_hash
              FROM {source_table} AS e CROSS JOIN UNNEST(e.vehicles)
                  AS v(plate_hash, plate_fold_hash)
              WHERE e.category = '{PLATE_READ}' AND e.attributes.site_id IN ({listed})) AS r,
        LATERAL TABLE(watch_match(r.event_id, r.event_time_ms, r.site_id, r.plate_hash,
                                  r.plate_fold_hash)) AS m(alert_id, alert)"""


def watch_function(alerter: WatchAlerter):
    """The ``watch_match`` table function over ``alerter``."""
    from pyflink.table import DataTypes
    from pyflink.table.udf import udtf

    @udtf(result_types=[DataTypes.STRING(), DataTypes.STRING()])
    def watch_match(event_id, event_time_ms, site_id, plate_hash, plate_fold_hash):
        for alert in alerter.alerts(
            event_id, event_time_ms, site_id, plate_hash, plate_fold_hash, int(time.time() * 1000)
        ):
            yield alert["alert_id"], json.dumps(alert, ensure_ascii=False)

    return watch_match
