"""Route each stored alert to its centers, in the alert store's own transaction.

The router follows the alert store (:class:`pipelines.streaming.alert_store.BatchHook`):
for every alert of a batch it records the home center that holds it and
every center told of it (:func:`features.alert_routing.recipients`), with
the alert's own emission time, so that a replay of the alerts topic writes
the same rows again and changes nothing; once the batch is committed it
hands the alerts, as live items, to the live feed.

An alert whose case is open (dispatched and not yet closed) is under the
closed loop's supervision (督办中): its updates are stored as ever, but
raise no new notification, on the live pages or the channels.
"""

from __future__ import annotations

from collections.abc import Callable

from features.alert_routing import RoutingRules, recipients
from features.jurisdiction_policy import JurisdictionPolicy
from pipelines.service.live_items import WATCH_SEVERITY, live_item, place_of

__all__ = ["AlertRouter", "severity_of"]


def severity_of(alert: dict) -> str:
    """The severity that routes an alert: the hotspot's own, or the watch list's."""
    return WATCH_SEVERITY if alert.get("kind") == "watch" else alert["severity"]


class AlertRouter:
    """Writes each alert's assignment and recipients; publishes the committed ones."""

    def __init__(
        self,
        policy: JurisdictionPolicy,
        rules: RoutingRules,
        publish: Callable[[list[dict]], None],
    ):
        self.policy = policy
        self.rules = rules
        self.publish = publish
        #: Alerts of the batch in hand whose case is open (filled by ``write``).
        self._held: set[str] = set()

    def _rows(self, alerts: list[dict]) -> tuple[list[tuple], list[tuple]]:
        assignments, told = [], []
        for alert in alerts:
            town, village = place_of(alert)
            severity = severity_of(alert)
            centers = recipients(self.policy, self.rules, town, village, severity)
            at_ms = alert["emitted_at_ms"]
            assignments.append(
                (
                    alert["alert_id"],
                    alert.get("kind") or "hotspot",
                    severity,
                    town,
                    village,
                    centers[0],
                    centers[0],
                    town is None,
                    at_ms,
                )
            )
            told += [
                (alert["alert_id"], c, "home" if i == 0 else "severity", at_ms)
                for i, c in enumerate(centers)
            ]
        return assignments, told

    def write(self, cur, hotspot: list[dict], watch: list[dict]) -> None:
        """Insert the batch's assignments and recipients; what is there stays as it is.

        A later update of a cluster may raise its severity: its new
        recipients are added and its severity follows; the center holding
        it and its acknowledgement are left alone.
        """
        assignments, told = self._rows(hotspot + watch)
        ids = [a[0] for a in assignments]
        cur.execute(
            "SELECT alert_id FROM duty.cases WHERE alert_id = ANY(%s) AND state <> 'closed'",
            (ids,),
        )
        self._held = {row[0] for row in cur.fetchall()}
        cur.executemany(
            "INSERT INTO duty.alert_assignments (alert_id, kind, severity, town_code, "
            "village_code, home_center, center_id, unlocated, assigned_at) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, to_timestamp(%s / 1000.0)) "
            "ON CONFLICT (alert_id) DO UPDATE SET severity = EXCLUDED.severity "
            "WHERE duty.alert_assignments.severity IS DISTINCT FROM EXCLUDED.severity",
            assignments,
        )
        cur.executemany(
            "INSERT INTO duty.alert_recipients (alert_id, center_id, reason, told_at) "
            "VALUES (%s, %s, %s, to_timestamp(%s / 1000.0)) ON CONFLICT DO NOTHING",
            told,
        )

    def committed(self, hotspot: list[dict], watch: list[dict]) -> None:
        """Hand the batch's alerts to the live feed, each marked with its home center.

        Alerts under an open case are held back (督办中).
        """
        items = []
        for alert in hotspot + watch:
            if alert["alert_id"] in self._held:
                continue
            home = self.policy.home_center(*place_of(alert))
            items.append(
                live_item(alert, center_id=home, center_name=self.policy.center(home).name)
            )
        self.publish(items)
