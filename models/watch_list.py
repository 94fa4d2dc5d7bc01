"""The watch list (布控名单): vehicles of key persons, which the stream watches for.

The nightly graph names key persons: those who were a suspect in at least
``min_suspect_incidents`` incidents of its window, or whose calibrated risk
(:mod:`models.risk_model`) reaches ``min_person_risk``. A vehicle is watched

* as a **key person's vehicle** when it shares at least
  ``min_shared_incidents`` incidents with key persons (the person–vehicle
  projection of the graph), or
* as a **companion** (同行车辆) of such a vehicle, when the companion test
  (:mod:`models.companion_vehicles`) found the pair.

Each watched vehicle is matched by every plate token the night's entity
resolution tied to it, and by its folded plate (a confusable misread the
night has not seen yet). :class:`WatchList` answers a plate read with the
entry it matches, and :func:`watch_alert` turns a match at a sensitive
checkpoint into an alert for the ``alerts`` topic.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict

import pandas as pd

__all__ = [
    "WATCH_COLUMNS",
    "APPROVAL_COLUMNS",
    "REASON_LABELS",
    "key_persons",
    "build_watch_list",
    "WatchList",
    "watch_alert",
]

#: Columns of the published watch list, one row per watched vehicle.
WATCH_COLUMNS = [
    "vehicle_node",
    "reason",
    "reason_label",
    "detail",
    "persons",
    "shared_incidents",
    "via_vehicle",
    "plate_hashes",
    "plate_fold_hash",
    "as_of",
    "covered_until_ms",
]

#: Columns an approved entry adds (the alert service's review): who approved
#: it, why, and until when it is watched (``expires_at_ms``, epoch ms).
APPROVAL_COLUMNS = ["approval_id", "approved_by", "approval_reason", "expires_at_ms"]

#: What duty staff read for each reason a vehicle is watched.
REASON_LABELS = {"key_person_vehicle": "重点人员关联车辆", "companion": "布控车辆同行车辆"}


def key_persons(
    suspect_incidents: pd.Series,
    risk: pd.Series | None,
    *,
    min_suspect_incidents: int,
    min_person_risk: float,
) -> pd.Series:
    """The key persons' nodes, each with why (a short Chinese phrase).

    ``suspect_incidents`` counts each person's incidents as a suspect;
    ``risk`` is the calibrated risk of the scored persons (or None).

    Examples
    --------
    >>> s = pd.Series({"person:a": 3, "person:b": 1})
    >>> key_persons(s, pd.Series({"person:b": 0.8}), min_suspect_incidents=2,
    ...             min_person_risk=0.5).to_dict()
    {'person:a': '嫌疑人涉事 3 次', 'person:b': '风险 0.80'}
    """
    why = {
        node: f"嫌疑人涉事 {int(n)} 次"
        for node, n in suspect_incidents.items()
        if n >= min_suspect_incidents
    }
    if risk is not None:
        for node, value in risk.items():
            if value >= min_person_risk:
                why[node] = (why[node] + "，" if node in why else "") + f"风险 {value:.2f}"
    return pd.Series(why, dtype=object).sort_index()


def _is_vehicle(node: str) -> bool:
    return node.startswith("vehicle:")


def build_watch_list(
    persons: pd.Series,
    ties: pd.DataFrame,
    companions: pd.DataFrame,
    plates: pd.DataFrame,
    *,
    min_shared_incidents: int,
    include_companions: bool = True,
    as_of: str = "",
    covered_until_ms: int | None = None,
) -> pd.DataFrame:
    """One row per watched vehicle (:data:`WATCH_COLUMNS`).

    ``persons`` is :func:`key_persons`; ``ties`` the person–vehicle projection
    (``src``, ``dst``, ``weight`` = shared incidents, either order);
    ``companions`` the companion test's pairs (``vehicle_a``, ``vehicle_b``,
    ``companion``); ``plates`` the night's plate resolution (``plate_hash``,
    ``vehicle_id``, ``plate_fold_hash``), whose ``vehicle_id`` is the
    vehicle's own plate token. ``covered_until_ms`` is the latest event time
    the night's graph saw: the list already knows every read up to it.

    Examples
    --------
    >>> persons = pd.Series({"person:p": "嫌疑人涉事 3 次"})
    >>> ties = pd.DataFrame({"src": ["person:p", "person:p"], "dst": ["vehicle:v1", "vehicle:v9"],
    ...                      "weight": [3, 1]})
    >>> comp = pd.DataFrame({"vehicle_a": ["vehicle:v1"], "vehicle_b": ["vehicle:v2"],
    ...                      "companion": [True]})
    >>> plates = pd.DataFrame({"plate_hash": ["v1", "v1x", "v2"], "vehicle_id": ["v1", "v1", "v2"],
    ...                        "plate_fold_hash": ["f1", "f1", "f2"]})
    >>> out = build_watch_list(persons, ties, comp, plates, min_shared_incidents=2)
    >>> out[["vehicle_node", "reason", "plate_hashes", "plate_fold_hash"]].values.tolist()
    [['vehicle:v1', 'key_person_vehicle', ['v1', 'v1x'], 'f1'], ['vehicle:v2', 'companion', ['v2'], 'f2']]
    >>> out["detail"].tolist()
    ['与 1 名重点人员共同涉事 3 次', '与布控车辆 vehicle:v1 同行']
    """
    if min_shared_incidents < 1:
        raise ValueError(f"min_shared_incidents={min_shared_incidents} must be >= 1")
    rows = {}
    if len(persons) and len(ties):
        a_person = ties["src"].isin(persons.index) & ties["dst"].map(_is_vehicle)
        b_person = ties["dst"].isin(persons.index) & ties["src"].map(_is_vehicle)
        pairs = pd.concat(
            [
                ties.loc[a_person, ["src", "dst", "weight"]].set_axis(
                    ["person", "vehicle", "w"], axis=1
                ),
                ties.loc[b_person, ["dst", "src", "weight"]].set_axis(
                    ["person", "vehicle", "w"], axis=1
                ),
            ]
        )
        pairs = pairs[pairs["w"] >= min_shared_incidents]
        for vehicle, group in pairs.groupby("vehicle", sort=True):
            rows[vehicle] = dict(
                vehicle_node=vehicle,
                reason="key_person_vehicle",
                detail=f"与 {group['person'].nunique()} 名重点人员共同涉事 {int(group['w'].sum())} 次",
                persons=sorted(group["person"].unique().tolist()),
                shared_incidents=int(group["w"].sum()),
                via_vehicle=None,
            )
    if include_companions and rows and len(companions):
        found = companions[companions["companion"].astype(bool)]
        watched = sorted(rows)
        for a, b in sorted(zip(found["vehicle_a"], found["vehicle_b"])):
            for seen, other in ((a, b), (b, a)):
                if seen in watched and other not in rows:
                    rows[other] = dict(
                        vehicle_node=other,
                        reason="companion",
                        detail=f"与布控车辆 {seen} 同行",
                        persons=list(rows[seen]["persons"]),
                        shared_incidents=0,
                        via_vehicle=seen,
                    )
    if not rows:
        return pd.DataFrame(columns=WATCH_COLUMNS)
    known = plates.dropna(subset=["vehicle_id"])
    hashes = known.groupby("vehicle_id")["plate_hash"].agg(lambda h: sorted(h))
    own = known[known["plate_hash"] == known["vehicle_id"]].set_index("vehicle_id")[
        "plate_fold_hash"
    ]
    out = pd.DataFrame(sorted(rows.values(), key=lambda r: r["vehicle_node"]))
    token = out["vehicle_node"].str.removeprefix("vehicle:")
    out["plate_hashes"] = [hashes.get(t, [t]) for t in token]
    out["plate_fold_hash"] = [own.get(t) for t in token]
    out["reason_label"] = out["reason"].map(REASON_LABELS)
    out["as_of"] = as_of
    out["covered_until_ms"] = covered_until_ms
    return out[WATCH_COLUMNS]


class WatchList:
    """Answers a plate read with the watched vehicle it is, and how it matched.

    A read's own plate token matches ``exact``; failing that, its folded
    plate matches a watched vehicle's folded plate (``folded``), so that a
    confusable misread (8/B, 0/O, ...) is caught on the day it first occurs.
    A read no later than ``covered_until_ms`` is one the night that made
    the list already saw (a backfill, a replay): it matches nothing.
    """

    def __init__(self, entries: pd.DataFrame | None = None):
        self.entries = {}
        self.covered_until_ms = None
        self._by_plate: dict[str, str] = {}
        self._by_fold: dict[str, str] = {}
        if entries is None:
            return
        if "covered_until_ms" in entries and entries["covered_until_ms"].notna().any():
            self.covered_until_ms = int(entries["covered_until_ms"].max())
        for entry in entries.to_dict("records"):
            node = entry["vehicle_node"]
            self.entries[node] = entry
            for plate in entry["plate_hashes"] if entry["plate_hashes"] is not None else ():
                self._by_plate[plate] = node
            if entry.get("plate_fold_hash"):
                self._by_fold[entry["plate_fold_hash"]] = node

    def __len__(self) -> int:
        return len(self.entries)

    def match(
        self, plate_hash: str | None, plate_fold_hash: str | None, event_time_ms: int | None = None
    ):
        """``(entry, "exact" | "folded")`` of a read, or None.

        Examples
        --------
        >>> w = WatchList(pd.DataFrame({"vehicle_node": ["vehicle:v1"], "plate_hashes": [["v1"]],
        ...                             "plate_fold_hash": ["f1"], "covered_until_ms": [1000]}))
        >>> w.match("v1", "f1")[1], w.match("v7", "f1")[1], w.match("v7", "f7")
        ('exact', 'folded', None)
        >>> w.match("v1", "f1", event_time_ms=1000), w.match("v1", "f1", event_time_ms=1001)[1]
        (None, 'exact')
        """
        if (
            event_time_ms is not None
            and self.covered_until_ms is not None
            and event_time_ms <= self.covered_until_ms
        ):
            return None
        node = self._by_plate.get(plate_hash)
        if node is not None:
            return self.entries[node], "exact"
        node = self._by_fold.get(plate_fold_hash)
        if node is not None:
            return self.entries[node], "folded"
        return None


_MATCH_LABELS = {"exact": "车牌一致", "folded": "车牌易混字符一致（疑似误识）"}


def watch_alert(
    entry: dict,
    how: str,
    checkpoint,
    *,
    event_id: str,
    event_time_ms: int,
    plate_hash: str,
    emitted_at_ms: int,
    slot_minutes: int,
) -> dict:
    """The alert of a watched vehicle read at a sensitive checkpoint.

    ``checkpoint`` is a :class:`features.sensitive_sites.SensitiveCheckpoint`.
    The alert id is stable per vehicle, checkpoint and ``slot_minutes``
    slot of event time: a vehicle lingering there, or a replay, updates one
    alert instead of raising many. It names the approval of the entry
    (``approval_id``, ``approved_by``).
    """
    slot = event_time_ms // (slot_minutes * 60_000)
    key = f"{entry['vehicle_node']}|{checkpoint.site_id}|{slot}"
    alert_id = "watch-" + hashlib.sha256(key.encode()).hexdigest()[:20]
    place = asdict(checkpoint)
    return {
        "kind": "watch",
        "alert_id": alert_id,
        "event_id": event_id,
        "event_time_ms": int(event_time_ms),
        "emitted_at_ms": int(emitted_at_ms),
        "vehicle_node": entry["vehicle_node"],
        "plate_hash": plate_hash,
        "match": how,
        "match_label": _MATCH_LABELS[how],
        "reason": entry["reason"],
        "reason_label": entry["reason_label"],
        "detail": entry["detail"],
        "persons": list(entry["persons"]),
        "watch_as_of": entry.get("as_of") or "",
        # The approval that put the vehicle under watch (None on an unreviewed list).
        "approval_id": entry.get("approval_id"),
        "approved_by": entry.get("approved_by"),
        **place,
        "summary": (
            f"{entry['reason_label']}（{entry['detail']}）经过{checkpoint.site_name}，"
            f"距{checkpoint.place_kind_label}「{checkpoint.place_name}」"
            f"{checkpoint.distance_m:.0f} 米"
        ),
    }
