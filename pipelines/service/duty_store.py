"""The alert service's state in PostgreSQL: accounts, sessions, alerts' standing, cases, audit.

Every method is one transaction on a pooled connection. Visibility is the
jurisdiction policy's: a listing of alerts filters by
:meth:`JurisdictionPolicy.alert_filter` (the alert's place, or the center
holding it), a single alert is checked with :meth:`JurisdictionPolicy.may_see_alert`
and a case with :meth:`JurisdictionPolicy.may_see` by the caller. Times come from the caller (``now``), so that escalation and
time limits are tested with an injected clock.
"""

from __future__ import annotations

import hashlib
import json
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from psycopg2.extras import Json, RealDictCursor
from psycopg2.pool import ThreadedConnectionPool

from features.alert_routing import RoutingRules, escalate, escalation_due
from features.case_workflow import FIRST_STATE, STATE_LABELS, move
from features.jurisdiction_policy import JurisdictionPolicy
from features.work_orders import WorkOrderRules, overdue
from pipelines.io.private_files import write_private_text
from pipelines.service.credentials import (
    Account,
    demo_accounts,
    hash_password,
    new_secret,
    password_matches,
    secret_digest,
)
from pipelines.settings import Settings

__all__ = ["DutyStore", "Conflict", "case_id_of", "utc_now"]

#: Columns of an alert as the page reads it: the hotspot's row with its standing and case.
_HOTSPOT_SELECT = """
SELECT a.alert_id, 'hotspot' AS kind, a.category, a.category_label, a.severity, a.status,
       a.status_label, a.town_code, a.town_name, a.village_code, a.village_name, a.observed,
       a.expected, a.recurrence_interval_days, a.window_end, a.updated_window_end, a.cells,
       a.cell_stats, a.lon, a.lat, a.scale, a.duration_minutes, coalesce(a.updated_window_end, a.window_end) AS when_,
       s.center_id, s.acknowledged_at, s.acknowledged_by,
       c.case_id, c.state AS case_state, c.department,
       (c.supervised_at IS NOT NULL AND c.state <> 'closed') AS supervised, o.cooled
FROM {schema}.alerts a
LEFT JOIN duty.alert_assignments s ON s.alert_id = a.alert_id
LEFT JOIN duty.cases c ON c.alert_id = a.alert_id
LEFT JOIN duty.case_outcomes o ON o.case_id = c.case_id
"""
_WATCH_SELECT = """
SELECT w.alert_id, 'watch' AS kind, 'watch' AS category, w.status, w.status_label, w.town_code, w.town_name,
       w.village_code, w.village_name, w.site_name, w.place_name, w.summary, w.reason_label,
       w.cell_id, w.lon, w.lat, w.event_time, s.center_id, s.acknowledged_at,
       s.acknowledged_by, c.case_id, c.state AS case_state, c.department,
       (c.supervised_at IS NOT NULL AND c.state <> 'closed') AS supervised
FROM {schema}.watch_alerts w
LEFT JOIN duty.alert_assignments s ON s.alert_id = w.alert_id
LEFT JOIN duty.cases c ON c.alert_id = w.alert_id
"""


class Conflict(ValueError):
    """The request does not fit the alert's or case's current state."""


def case_id_of(alert_id: str) -> str:
    """The case made from an alert: one per alert, named from it.

    >>> case_id_of("zzt-cluster-001")
    'AJ-e9bc2bcc8dc9'
    """
    return "AJ-" + hashlib.sha256(alert_id.encode()).hexdigest()[:12]


class DutyStore:
    """Accounts, sessions, alert standing, cases and the audit trail, in PostgreSQL."""

    def __init__(
        self,
        settings: Settings,
        policy: JurisdictionPolicy,
        rules: RoutingRules,
        work_orders: WorkOrderRules,
        *,
        session_hours: float,
        connections: int = 8,
    ):
        self.schema = settings.pg["schema"]
        self.policy = policy
        self.rules = rules
        self.work_orders = work_orders
        self.session_hours = session_hours
        self._pool = ThreadedConnectionPool(1, connections, settings.pg_dsn())
        # The pool refuses at once when every connection is out; callers
        # (request threads, webhook workers, escalation) wait for one instead.
        self._free = threading.BoundedSemaphore(connections)

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.closeall()

    def transaction(self):
        """A cursor on a pooled connection, committed on a clean exit (for the service's other stores)."""
        return self._cursor()

    @contextmanager
    def _cursor(self):
        with self._free:
            conn = self._pool.getconn()
            try:
                with conn.cursor(cursor_factory=RealDictCursor) as cur:
                    yield cur
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                self._pool.putconn(conn)

    # Accounts and sessions -------------------------------------------------

    def ensure_demo_accounts(self, path: Path) -> int:
        """Make the demo accounts' passwords those of ``path``; how many accounts were (re)written.

        A missing file is generated (one account per center and a district
        supervisor) and its accounts are written over any of the same names,
        whose old passwords are lost with the old file (their sessions end).
        An existing file is kept, and only the accounts the database lacks
        are written, so that the passwords in it always work.
        """
        fresh = not path.exists()
        if fresh:
            listed = [
                {
                    "username": a.username,
                    "password": new_secret()[:20],
                    "center_id": a.center_id,
                    "role": a.role,
                    "display_name": a.display_name,
                }
                for a in demo_accounts(self.policy)
            ]
            write_private_text(path, json.dumps(listed, ensure_ascii=False, indent=1))
        else:
            listed = json.loads(path.read_text(encoding="utf-8"))
        with self._cursor() as cur:
            cur.execute("SELECT username FROM duty.accounts")
            present = {r["username"] for r in cur.fetchall()}
            written = [a for a in listed if fresh or a["username"] not in present]
            for a in written:
                cur.execute(
                    "INSERT INTO duty.accounts (username, center_id, role, display_name, "
                    "password_hash) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (username) DO UPDATE "
                    "SET center_id = EXCLUDED.center_id, role = EXCLUDED.role, "
                    "display_name = EXCLUDED.display_name, password_hash = EXCLUDED.password_hash",
                    (
                        a["username"],
                        a["center_id"],
                        a["role"],
                        a["display_name"],
                        hash_password(a["password"]),
                    ),
                )
            if fresh:
                cur.execute(
                    "DELETE FROM duty.sessions WHERE username = ANY(%s)",
                    ([a["username"] for a in written],),
                )
        return len(written)

    def add_account(self, account: Account, password: str, now: datetime) -> None:
        """Create a person's account; a :class:`Conflict` when the username is taken."""
        with self._cursor() as cur:
            cur.execute(
                "INSERT INTO duty.accounts (username, center_id, role, display_name, "
                "password_hash) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING "
                "RETURNING username",
                (
                    account.username,
                    account.center_id,
                    account.role,
                    account.display_name,
                    hash_password(password),
                ),
            )
            if cur.fetchone() is None:
                raise Conflict(f"username {account.username!r} is taken")
            self.audit(
                cur,
                now,
                "admin",
                "account_add",
                account.username,
                {"center": account.center_id, "role": account.role},
            )

    def set_password(self, username: str, password: str, now: datetime) -> None:
        """Give an account a new password and end its sessions and tokens."""
        with self._cursor() as cur:
            cur.execute(
                "UPDATE duty.accounts SET password_hash = %s WHERE username = %s "
                "RETURNING username",
                (hash_password(password), username),
            )
            if cur.fetchone() is None:
                raise KeyError(username)
            cur.execute("DELETE FROM duty.sessions WHERE username = %s", (username,))
            self.audit(cur, now, "admin", "password_reset", username, {})

    def accounts(self, center_id: str | None = None) -> list[Account]:
        """Every account, or those of one center, by username."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT username, center_id, role, display_name FROM duty.accounts "
                "WHERE %(center)s::text IS NULL OR center_id = %(center)s ORDER BY username",
                {"center": center_id},
            )
            return [Account(**r) for r in cur.fetchall()]

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account whose password this is, or None (unknown user or wrong password)."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT username, center_id, role, display_name, password_hash "
                "FROM duty.accounts WHERE username = %s",
                (username,),
            )
            row = cur.fetchone()
        if row is None or not password_matches(row.pop("password_hash"), password):
            return None
        return Account(**row)

    def open_session(self, account: Account, kind: str, now: datetime) -> tuple[str, datetime]:
        """A new session (``page``) or API token (``api``): its secret and expiry."""
        secret = new_secret()
        expires = now + timedelta(hours=self.session_hours)
        with self._cursor() as cur:
            cur.execute("DELETE FROM duty.sessions WHERE expires_at < %s", (now,))
            cur.execute(
                "INSERT INTO duty.sessions (token_hash, username, kind, expires_at) "
                "VALUES (%s, %s, %s, %s)",
                (secret_digest(secret), account.username, kind, expires),
            )
            self.audit(cur, now, account.username, "login", account.username, {"kind": kind})
        return secret, expires

    def account_of(self, secret: str, now: datetime) -> Account | None:
        """The account holding a live session or token, or None."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT a.username, a.center_id, a.role, a.display_name FROM duty.sessions s "
                "JOIN duty.accounts a USING (username) WHERE s.token_hash = %s "
                "AND s.expires_at > %s",
                (secret_digest(secret), now),
            )
            row = cur.fetchone()
        return None if row is None else Account(**row)

    def close_session(self, secret: str) -> None:
        """End a session or revoke a token."""
        with self._cursor() as cur:
            cur.execute("DELETE FROM duty.sessions WHERE token_hash = %s", (secret_digest(secret),))

    # Alerts --------------------------------------------------------------

    def alerts_for(self, center_id: str, limit: int) -> list[dict]:
        """The latest alerts ``center_id`` may see, hotspots and watch alerts, newest first."""
        condition = self.policy.alert_filter(center_id)
        where = f"WHERE {condition}" if condition else ""
        with self._cursor() as cur:
            rows = []
            for select, newest in ((_HOTSPOT_SELECT, "when_"), (_WATCH_SELECT, "event_time")):
                cur.execute(
                    f"SELECT * FROM ({select.format(schema=self.schema)}) AS v {where} "
                    f"ORDER BY {newest} DESC LIMIT %s",
                    (limit,),
                )
                rows += cur.fetchall()
        return [dict(r) for r in rows]

    def alert(self, alert_id: str) -> dict | None:
        """One alert as the page reads it, or None when there is none of that id."""
        with self._cursor() as cur:
            return self._alert(cur, alert_id)

    def _alert(self, cur, alert_id: str) -> dict | None:
        for select, alias in ((_HOTSPOT_SELECT, "a"), (_WATCH_SELECT, "w")):
            cur.execute(
                select.format(schema=self.schema) + f"WHERE {alias}.alert_id = %s", (alert_id,)
            )
            row = cur.fetchone()
            if row is not None:
                return dict(row)
        return None

    def acknowledge(self, account: Account, alert_id: str, now: datetime) -> dict:
        """Sign for an alert (签收); acknowledging twice is a :class:`Conflict`."""
        with self._cursor() as cur:
            cur.execute(
                "UPDATE duty.alert_assignments SET acknowledged_at = %s, acknowledged_by = %s "
                "WHERE alert_id = %s AND acknowledged_at IS NULL RETURNING alert_id",
                (now, account.username, alert_id),
            )
            if cur.fetchone() is None:
                raise Conflict(f"alert {alert_id!r} is already acknowledged or not yet routed")
            self.audit(cur, now, account.username, "acknowledge", alert_id, {})
            return self._alert(cur, alert_id)

    def dispatch(
        self,
        account: Account,
        alert_id: str,
        category: str | None,
        department: str | None,
        note: str,
        now: datetime,
    ) -> dict:
        """Make the case of an alert (or Open311 request) and dispatch it (派单).

        The department is the one staff chose, else the category's declared
        one; the time limits are the category's
        (:class:`features.work_orders.WorkOrderRules`). An alert is
        acknowledged too.
        """
        case_id = case_id_of(alert_id)
        rule = self.work_orders.rule_for(category)
        department = department or rule.department
        with self._cursor() as cur:
            cur.execute(
                "INSERT INTO duty.cases (case_id, alert_id, center_id, department, state, note, "
                "dispatched_by, dispatched_at, updated_at, category, respond_by, due_at) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING RETURNING case_id",
                (
                    case_id,
                    alert_id,
                    account.center_id,
                    department,
                    FIRST_STATE,
                    note,
                    account.username,
                    now,
                    now,
                    category,
                    rule.respond_by(now),
                    rule.due(now),
                ),
            )
            if cur.fetchone() is None:
                raise Conflict(f"alert {alert_id!r} already has case {case_id!r}")
            cur.execute(
                "UPDATE duty.alert_assignments SET acknowledged_at = %s, acknowledged_by = %s "
                "WHERE alert_id = %s AND acknowledged_at IS NULL",
                (now, account.username, alert_id),
            )
            self.audit(
                cur,
                now,
                account.username,
                "dispatch",
                case_id,
                {"alert_id": alert_id, "department": department, "note": note},
            )
            return self._case(cur, case_id)

    # Cases ---------------------------------------------------------------

    def case(self, case_id: str) -> dict | None:
        """A case with its alert's place and its audit trail, or None."""
        with self._cursor() as cur:
            return self._case(cur, case_id)

    def _case(self, cur, case_id: str) -> dict | None:
        # A case's subject is an alert or an Open311 request; its place is the subject's.
        cur.execute(
            "SELECT c.*, coalesce(s.town_code, r.town_code) AS town_code, "
            "coalesce(s.village_code, r.village_code) AS village_code FROM duty.cases c "
            "LEFT JOIN duty.alert_assignments s ON s.alert_id = c.alert_id "
            "LEFT JOIN duty.open311_requests r ON r.request_id = c.alert_id "
            "WHERE c.case_id = %s",
            (case_id,),
        )
        row = cur.fetchone()
        if row is None:
            return None
        case = dict(
            row,
            state_label=STATE_LABELS[row["state"]],
            supervised=row["supervised_at"] is not None and row["state"] != "closed",
        )
        cur.execute(
            "SELECT at, actor, action, detail FROM duty.audit WHERE subject IN (%s, %s) "
            "ORDER BY id",
            (case_id, row["alert_id"]),
        )
        case["trail"] = [dict(r) for r in cur.fetchall()]
        return case

    def move_case(self, account: Account, case_id: str, to: str, note: str, now: datetime) -> dict:
        """Move a case to state ``to``; a move its state does not allow is a :class:`Conflict`."""
        with self._cursor() as cur:
            cur.execute("SELECT state FROM duty.cases WHERE case_id = %s FOR UPDATE", (case_id,))
            row = cur.fetchone()
            if row is None:
                raise KeyError(case_id)
            try:
                move(row["state"], to)
            except ValueError as exc:
                raise Conflict(str(exc)) from None
            # The first acceptance is the response; a reopened case is open again.
            cur.execute(
                "UPDATE duty.cases SET state = %(to)s, updated_at = %(now)s, "
                "accepted_at = CASE WHEN %(to)s = 'accepted' THEN coalesce(accepted_at, %(now)s) "
                "ELSE accepted_at END, "
                "closed_at = CASE WHEN %(to)s = 'closed' THEN %(now)s "
                "WHEN %(to)s = 'reopened' THEN NULL ELSE closed_at END "
                "WHERE case_id = %(case)s",
                {"to": to, "now": now, "case": case_id},
            )
            self.audit(
                cur, now, account.username, "move", case_id, {"from": row["state"], "to": to}
            )
            if note:
                self.audit(cur, now, account.username, "comment", case_id, {"note": note})
            return self._case(cur, case_id)

    def follow_up(
        self, account: Account, case_id: str, satisfaction: int, note: str, now: datetime
    ) -> dict:
        """Record the caller's satisfaction (1 to 5) with a closed case (回访), once."""
        with self._cursor() as cur:
            cur.execute(
                "UPDATE duty.cases SET satisfaction = %s, followed_up_at = %s, updated_at = %s "
                "WHERE case_id = %s AND state = 'closed' AND satisfaction IS NULL "
                "RETURNING case_id",
                (satisfaction, now, now, case_id),
            )
            if cur.fetchone() is None:
                raise Conflict(f"case {case_id!r} is not closed, or was followed up already")
            self.audit(
                cur,
                now,
                account.username,
                "follow_up",
                case_id,
                {"satisfaction": satisfaction, "note": note},
            )
            return self._case(cur, case_id)

    def supervise_due(self, now: datetime) -> list[dict]:
        """Put every case past its closing limit under supervision (督办) one level up; those put.

        Each gets an audit entry whose reason staff read.
        """
        supervised = []
        with self._cursor() as cur:
            cur.execute(
                "SELECT case_id, center_id, department, dispatched_at, due_at, state "
                "FROM duty.cases WHERE supervised_at IS NULL AND due_at IS NOT NULL "
                "AND state <> 'closed' AND due_at <= %s FOR UPDATE SKIP LOCKED",
                (now,),
            )
            for row in cur.fetchall():
                if not overdue(row["due_at"], row["state"], now):
                    continue
                center = self.policy.center(row["center_id"])
                supervisor = self.policy.center(center.parent or center.id)
                hours = (row["due_at"] - row["dispatched_at"]).total_seconds() / 3600
                reason = (
                    f"{center.name}派往{row['department']}的案件超过办结时限{hours:g}小时"
                    f"仍{STATE_LABELS[row['state']]}，由{supervisor.name}督办"
                )
                cur.execute(
                    "UPDATE duty.cases SET supervised_at = %s, supervising_center = %s "
                    "WHERE case_id = %s",
                    (now, supervisor.id, row["case_id"]),
                )
                self.audit(
                    cur,
                    now,
                    "system",
                    "supervise",
                    row["case_id"],
                    {"center": supervisor.id, "reason": reason},
                )
                supervised.append(self._case(cur, row["case_id"]))
        return supervised

    def comment(self, account: Account, alert_id: str, note: str, now: datetime) -> None:
        """Add a comment to an alert's trail."""
        with self._cursor() as cur:
            self.audit(cur, now, account.username, "comment", alert_id, {"note": note})

    # Escalation ----------------------------------------------------------

    def escalate_due(self, now: datetime) -> list[dict]:
        """Move every alert nobody acknowledged in time one level up; the alerts moved.

        Each move is recorded: the alert's new center, the center told, and
        an audit entry whose detail carries the reason staff read.
        """
        now_ms = int(now.timestamp() * 1000)
        moved = []
        with self._cursor() as cur:
            cur.execute(
                "SELECT alert_id, severity, center_id, assigned_at FROM duty.alert_assignments "
                "WHERE acknowledged_at IS NULL AND center_id <> %s FOR UPDATE SKIP LOCKED",
                (self.policy.district_code,),
            )
            for row in cur.fetchall():
                assigned_ms = int(row["assigned_at"].timestamp() * 1000)
                if row["severity"] not in self.rules.levels_up or not escalation_due(
                    self.rules,
                    row["severity"],
                    assigned_at_ms=assigned_ms,
                    acknowledged=False,
                    now_ms=now_ms,
                ):
                    continue
                step = escalate(
                    self.policy,
                    self.rules,
                    row["center_id"],
                    row["severity"],
                    assigned_at_ms=assigned_ms,
                    now_ms=now_ms,
                )
                if step is None:
                    continue
                cur.execute(
                    "UPDATE duty.alert_assignments SET center_id = %s, assigned_at = %s "
                    "WHERE alert_id = %s",
                    (step.to_center, now, row["alert_id"]),
                )
                cur.execute(
                    "INSERT INTO duty.alert_recipients (alert_id, center_id, reason, told_at) "
                    "VALUES (%s, %s, 'escalation', %s) ON CONFLICT DO NOTHING",
                    (row["alert_id"], step.to_center, now),
                )
                self.audit(
                    cur,
                    now,
                    "system",
                    "escalate",
                    row["alert_id"],
                    {"from": step.from_center, "to": step.to_center, "reason": step.reason},
                )
                moved.append(self._alert(cur, row["alert_id"]))
        return [m for m in moved if m is not None]

    # Open311 requests ----------------------------------------------------

    def add_open311_request(
        self,
        account: Account,
        request_id: str,
        event_id: str,
        service_code: str,
        lon: float,
        lat: float,
        town_code: str,
        village_code: str,
        place: str,
        now: datetime,
    ) -> None:
        """Keep a request created through Open311 (no clear text: that is in the raw event)."""
        with self._cursor() as cur:
            cur.execute(
                "INSERT INTO duty.open311_requests (request_id, event_id, service_code, lon, lat, "
                "town_code, village_code, place, requested_by, requested_at) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    request_id,
                    event_id,
                    service_code,
                    lon,
                    lat,
                    town_code,
                    village_code,
                    place,
                    account.username,
                    now,
                ),
            )
            self.audit(
                cur, now, account.username, "open311_request", request_id, {"service": service_code}
            )

    def open311_requests(self, ids: list[str] | None = None) -> list[dict]:
        """Requests (those of ``ids``, or the latest 5,000) with their case's state, newest first."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT r.*, c.state AS case_state, c.department, c.updated_at AS case_updated_at "
                "FROM duty.open311_requests r LEFT JOIN duty.cases c ON c.alert_id = r.request_id "
                "WHERE %(ids)s::text[] IS NULL OR r.request_id = ANY(%(ids)s::text[]) "
                "ORDER BY r.requested_at DESC LIMIT 5000",
                {"ids": ids},
            )
            return [dict(r) for r in cur.fetchall()]

    # Webhooks ------------------------------------------------------------

    def add_webhook(self, account: Account, url: str, now: datetime) -> dict:
        """A new subscription of the account's center; its secret is returned this once."""
        subscription = {
            "subscription_id": "WH-" + new_secret()[:12].replace("-", "x").replace("_", "y"),
            "center_id": account.center_id,
            "url": url,
            "secret": new_secret(),
            "created_by": account.username,
            "created_at": now,
        }
        with self._cursor() as cur:
            cur.execute(
                "INSERT INTO duty.webhook_subscriptions (subscription_id, center_id, url, secret, "
                "created_by, created_at) VALUES (%(subscription_id)s, %(center_id)s, %(url)s, "
                "%(secret)s, %(created_by)s, %(created_at)s)",
                subscription,
            )
            self.audit(
                cur,
                now,
                account.username,
                "webhook_add",
                subscription["subscription_id"],
                {"url": url},
            )
        return subscription

    def webhook_subscriptions(self, center_id: str | None = None) -> list[dict]:
        """Every subscription, or those of one center, oldest first (with their secrets)."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT * FROM duty.webhook_subscriptions "
                "WHERE %(center)s::text IS NULL OR center_id = %(center)s ORDER BY created_at",
                {"center": center_id},
            )
            return [dict(r) for r in cur.fetchall()]

    def webhook_subscription(self, subscription_id: str) -> dict | None:
        """One subscription, or None."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT * FROM duty.webhook_subscriptions WHERE subscription_id = %s",
                (subscription_id,),
            )
            row = cur.fetchone()
        return None if row is None else dict(row)

    def remove_webhook(self, account: Account, subscription_id: str, now: datetime) -> None:
        """Delete a subscription."""
        with self._cursor() as cur:
            cur.execute(
                "DELETE FROM duty.webhook_subscriptions WHERE subscription_id = %s",
                (subscription_id,),
            )
            self.audit(cur, now, account.username, "webhook_remove", subscription_id, {})

    def webhook_delivered(self, delivery_id: str) -> bool:
        """Whether a delivery was already made."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT 1 FROM duty.webhook_batches WHERE delivery_id = %s "
                "AND status = 'delivered'",
                (delivery_id,),
            )
            return cur.fetchone() is not None

    def record_webhook_delivery(
        self,
        delivery_id: str,
        subscription_id: str,
        alert_ids: list[str],
        status: str,
        attempts: int,
        error: str,
        queued_at: datetime,
        done_at: datetime,
    ) -> None:
        """Keep a delivery's outcome; a later outcome of the same delivery replaces it."""
        with self._cursor() as cur:
            cur.execute(
                "INSERT INTO duty.webhook_batches (delivery_id, subscription_id, alert_ids, "
                "status, attempts, last_error, queued_at, done_at) VALUES (%s, %s, %s, %s, %s, "
                "%s, %s, %s) ON CONFLICT (delivery_id) DO UPDATE SET status = EXCLUDED.status, "
                "attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, "
                "done_at = EXCLUDED.done_at",
                (
                    delivery_id,
                    subscription_id,
                    alert_ids,
                    status,
                    attempts,
                    error,
                    queued_at,
                    done_at,
                ),
            )

    def trail(self, subject: str) -> list[dict]:
        """The audit entries of an alert or case, oldest first."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT at, actor, action, detail FROM duty.audit WHERE subject = %s ORDER BY id",
                (subject,),
            )
            return [dict(r) for r in cur.fetchall()]

    @staticmethod
    def audit(cur, now: datetime, actor: str, action: str, subject: str, detail: dict) -> None:
        """Add an entry to the audit trail, in the caller's transaction."""
        cur.execute(
            "INSERT INTO duty.audit (at, actor, action, subject, detail) VALUES (%s, %s, %s, %s, %s)",
            (now, actor, action, subject, Json(detail)),
        )


def utc_now() -> datetime:
    """The wall clock, in UTC: the service's clock outside tests."""
    return datetime.now(UTC)
