"""The watch list under human review: the graph proposes, a named district account decides.

The nightly graph job publishes its proposals (``proposals.parquet``). The
service imports each new one as ``pending`` into ``duty.watch_proposals``.
Only an account of the district's center may decide: it approves a
proposal with a reason, which watches the vehicle for
``watch_list.approval_days`` unless renewed, or rejects it with a reason.
Approved entries past their expiry become ``expired``. After every change
the service publishes the approved, unexpired entries, each with its
approval, as ``watch_list.parquet``: the only list the stream watches, so
every watch alert names its approval. Every proposal, approval, rejection,
renewal and expiry is in the audit trail.
"""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from models.watch_list import APPROVAL_COLUMNS, WATCH_COLUMNS
from pipelines.io.watch_list_store import PROPOSALS_FILE, publish_watch_list, read_proposals
from pipelines.service.credentials import Account
from pipelines.service.duty_store import Conflict, DutyStore

__all__ = ["WatchReview", "proposal_id_of", "STATUS_LABELS"]

log = logging.getLogger(__name__)

#: What staff read for each state of a proposal.
STATUS_LABELS = {
    "pending": "待审批",
    "approved": "已批准",
    "rejected": "已驳回",
    "expired": "已到期",
}

#: The columns of ``duty.watch_proposals`` a proposal brings from the night's list.
_COLUMNS = ("proposal_id", *WATCH_COLUMNS)


def proposal_id_of(vehicle_node: str, as_of: str) -> str:
    """A proposal's id: its vehicle and the night that proposed it.

    >>> proposal_id_of("vehicle:abc", "2026-12-05")
    'WP-79ff0ef662dc'
    """
    return "WP-" + hashlib.sha256(f"{vehicle_node}|{as_of}".encode()).hexdigest()[:12]


def _value(v):
    """A parquet cell as PostgreSQL takes it (arrays as lists, missing as None)."""
    if v is None:
        return None
    if hasattr(v, "tolist"):
        return v.tolist()
    if isinstance(v, float) and v != v:
        return None
    return v


class WatchReview:
    """Proposals in, decisions recorded, the watched list published."""

    def __init__(self, store: DutyStore, folder: Path, approval_days: float):
        self.store = store
        self.folder = Path(folder)
        self.approval = timedelta(days=approval_days)
        self._imported_stamp = None

    def import_proposals(self, now: datetime) -> int:
        """Import the night's new proposals as pending (once each); how many were new."""
        try:
            stat = os.stat(self.folder / PROPOSALS_FILE)
        except OSError:
            return 0
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._imported_stamp:
            return 0
        frame = read_proposals(self.folder)
        if frame is None:
            return 0
        entries = []
        for record in frame.to_dict("records"):
            entry = {k: _value(v) for k, v in record.items()}
            entry["proposal_id"] = proposal_id_of(entry["vehicle_node"], entry["as_of"])
            entries.append(entry)
        new = 0
        with self.store.transaction() as cur:
            for entry in entries:
                cur.execute(
                    f"INSERT INTO duty.watch_proposals ({', '.join(_COLUMNS)}, proposed_at, "
                    f"status) VALUES ({', '.join(['%s'] * len(_COLUMNS))}, %s, 'pending') "
                    "ON CONFLICT DO NOTHING RETURNING proposal_id",
                    (*(entry.get(c) for c in _COLUMNS), now),
                )
                if cur.fetchone() is not None:
                    new += 1
                    self.store.audit(
                        cur,
                        now,
                        "graph",
                        "watch_propose",
                        entry["proposal_id"],
                        {"as_of": entry["as_of"]},
                    )
        self._imported_stamp = stamp
        if new:
            log.info("watch list: %d new proposal(s) to review", new)
        return new

    def proposals(self, status: str) -> list[dict]:
        """Proposals in one state, newest night first, with their evidence."""
        with self.store.transaction() as cur:
            cur.execute(
                "SELECT * FROM duty.watch_proposals WHERE status = %s "
                "ORDER BY as_of DESC, shared_incidents DESC NULLS LAST, proposal_id LIMIT 1000",
                (status,),
            )
            rows = [dict(r) for r in cur.fetchall()]
        for row in rows:
            row["status_label"] = STATUS_LABELS[row["status"]]
        return rows

    def _decide(self, account, proposal_id, reason, now, *, allowed, status, action, expires):
        with self.store.transaction() as cur:
            cur.execute(
                "SELECT status FROM duty.watch_proposals WHERE proposal_id = %s FOR UPDATE",
                (proposal_id,),
            )
            row = cur.fetchone()
            if row is None:
                raise KeyError(proposal_id)
            if row["status"] not in allowed:
                raise Conflict(
                    f"proposal {proposal_id!r} is {row['status']}; {action} needs one of: "
                    f"{', '.join(allowed)}"
                )
            cur.execute(
                "UPDATE duty.watch_proposals SET status = %s, decided_by = %s, "
                "decision_reason = %s, decided_at = %s, expires_at = %s WHERE proposal_id = %s "
                "RETURNING *",
                (status, account.username, reason, now, expires, proposal_id),
            )
            decided = dict(cur.fetchone())
            self.store.audit(
                cur,
                now,
                account.username,
                action,
                proposal_id,
                {"reason": reason, "expires_at": expires.isoformat() if expires else None},
            )
        self.publish(now)
        return decided | {"status_label": STATUS_LABELS[decided["status"]]}

    def approve(self, account: Account, proposal_id: str, reason: str, now: datetime) -> dict:
        """Watch the proposal's vehicle until ``now`` + the approval period."""
        return self._decide(
            account,
            proposal_id,
            reason,
            now,
            allowed=("pending",),
            status="approved",
            action="watch_approve",
            expires=now + self.approval,
        )

    def reject(self, account: Account, proposal_id: str, reason: str, now: datetime) -> dict:
        """Refuse the proposal: its vehicle is not watched."""
        return self._decide(
            account,
            proposal_id,
            reason,
            now,
            allowed=("pending",),
            status="rejected",
            action="watch_reject",
            expires=None,
        )

    def renew(self, account: Account, proposal_id: str, reason: str, now: datetime) -> dict:
        """Watch an approved (or expired) entry for another approval period from ``now``."""
        return self._decide(
            account,
            proposal_id,
            reason,
            now,
            allowed=("approved", "expired"),
            status="approved",
            action="watch_renew",
            expires=now + self.approval,
        )

    def expire_due(self, now: datetime) -> int:
        """Mark approvals past their expiry as expired, and publish the list if any were."""
        with self.store.transaction() as cur:
            cur.execute(
                "UPDATE duty.watch_proposals SET status = 'expired' WHERE status = 'approved' "
                "AND expires_at <= %s RETURNING proposal_id, expires_at",
                (now,),
            )
            expired = cur.fetchall()
            for row in expired:
                self.store.audit(
                    cur,
                    now,
                    "system",
                    "watch_expire",
                    row["proposal_id"],
                    {"expired_at": row["expires_at"].isoformat()},
                )
        if expired:
            self.publish(now)
        return len(expired)

    def publish(self, now: datetime) -> int:
        """Write the approved, unexpired entries as the stream's watch list; how many."""
        with self.store.transaction() as cur:
            cur.execute(
                "SELECT * FROM duty.watch_proposals WHERE status = 'approved' "
                "AND expires_at > %s ORDER BY vehicle_node, as_of DESC",
                (now,),
            )
            rows = cur.fetchall()
        entries = {}
        for row in rows:  # the latest night's entry of a vehicle approved twice
            entries.setdefault(row["vehicle_node"], row)
        frame = pd.DataFrame(
            [
                {c: row[c] for c in WATCH_COLUMNS}
                | {
                    "approval_id": row["proposal_id"],
                    "approved_by": row["decided_by"],
                    "approval_reason": row["decision_reason"],
                    "expires_at_ms": int(row["expires_at"].timestamp() * 1000),
                }
                for row in entries.values()
            ],
            columns=WATCH_COLUMNS + APPROVAL_COLUMNS,
        )
        publish_watch_list(self.folder, frame)
        return len(frame)
