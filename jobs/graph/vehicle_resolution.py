"""Which read plates are one vehicle: misreads joined to the plate they misread.

Input is one row per distinct read plate (its exact token) with its match
keys (:mod:`features.plate_keys`) and how often it was read. A misread is
rare next to the true plate, so a plate joins another when the other was
read at least ``dominance`` times as often and they agree on a match key;
two plates read comparably often stay two vehicles, even when their keys
agree (``京AB1234`` and ``京A81234`` are both legal plates).

Evidence, strongest first:

``confusable``
    equal once 0/O/D/Q, 8/B, 1/I, 2/Z, 5/S are folded;
``province``
    equal after the province character (misread or dropped);
``missing_character``
    the plate is the other with one character dropped.

Every merge keeps its evidence and a confidence: the evidence's prior
(configuration, ``graph.er.plate_evidence_confidence``) times the share of
the two plates' reads that the kept plate has. A plate that could join
several vehicles joins none (``ambiguous``); an unreadable read joins none
(``unreadable``) and is reported, not guessed.

Examples
--------
>>> import pandas as pd
>>> reads = pd.DataFrame({
...     "plate_hash": ["v1", "v1_misread", "v2"], "reads": [40, 2, 30],
...     "plate_readable": [True, True, True],
...     "plate_fold_hash": ["f1", "f1", "f2"], "plate_tail_hash": ["t1", "t1", "t2"],
...     "plate_deletion_hashes": [["d1"], ["d1"], ["d2"]]})
>>> out = resolve_plates(reads, dominance=5, evidence_confidence={"confusable": 0.98,
...     "province": 0.95, "missing_character": 0.9})
>>> sorted(out.set_index("plate_hash")["vehicle_id"].items())
[('v1', 'v1'), ('v1_misread', 'v1'), ('v2', 'v2')]
>>> row = out.set_index("plate_hash").loc["v1_misread"]
>>> row["evidence"], float(row["confidence"])
('confusable', 0.9333)
"""

from __future__ import annotations

import pandas as pd

__all__ = ["EVIDENCE", "resolve_plates"]

#: Evidence of a merge, strongest first, and the key each is found by.
EVIDENCE = ("confusable", "province", "missing_character")
_COLUMNS = ["plate_hash", "vehicle_id", "evidence", "confidence", "reads", "candidates"]


def _index(frame: pd.DataFrame, column: str) -> dict:
    index: dict = {}
    for plate, value in zip(frame["plate_hash"], frame[column]):
        if isinstance(value, str):
            index.setdefault(value, []).append(plate)
    return index


def resolve_plates(
    reads: pd.DataFrame, *, dominance: float, evidence_confidence: dict
) -> pd.DataFrame:
    """One row per read plate: the vehicle it is, by what evidence, how sure.

    ``reads`` has one row per distinct ``plate_hash`` with ``reads`` (count),
    ``plate_readable`` and the match-key columns; rows from before match keys
    existed (``plate_readable`` null) are their own vehicle, by ``exact``.

    Returns a frame with ``plate_hash``, ``vehicle_id`` (the token of the
    plate it joins, its own for a vehicle; None when ``unreadable``),
    ``evidence`` (``exact`` for a vehicle's own plate), ``confidence``,
    ``reads`` and ``candidates`` (how many vehicles it could have joined).
    """
    missing = {
        "plate_hash",
        "reads",
        "plate_readable",
        "plate_fold_hash",
        "plate_tail_hash",
        "plate_deletion_hashes",
    } - set(reads.columns)
    if missing:
        raise ValueError(f"plate reads lack columns {sorted(missing)}")
    if dominance < 1:
        raise ValueError(f"dominance={dominance} must be >= 1")
    unknown = set(EVIDENCE) - set(evidence_confidence)
    if unknown:
        raise ValueError(f"evidence_confidence lacks {sorted(unknown)}; it needs {list(EVIDENCE)}")
    if reads["plate_hash"].duplicated().any():
        dup = reads.loc[reads["plate_hash"].duplicated(), "plate_hash"].iloc[0]
        raise ValueError(f"plate_hash={dup!r} appears twice; aggregate reads first")
    frame = reads.sort_values(
        ["reads", "plate_hash"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)
    readable = frame[frame["plate_readable"].fillna(False).astype(bool)]
    by_fold, by_tail = _index(readable, "plate_fold_hash"), _index(readable, "plate_tail_hash")
    by_deletion: dict = {}
    for plate, keys in zip(readable["plate_hash"], readable["plate_deletion_hashes"]):
        for key in keys if keys is not None else ():
            by_deletion.setdefault(key, []).append(plate)
    count = dict(zip(frame["plate_hash"], frame["reads"]))
    vehicle: dict = {}
    rows = []
    # Most-read first: a plate only joins one read `dominance` times as often,
    # which has therefore been resolved already.
    for plate, n, ok, fold, tail in zip(
        frame["plate_hash"],
        frame["reads"],
        frame["plate_readable"],
        frame["plate_fold_hash"],
        frame["plate_tail_hash"],
    ):
        if ok is None or (isinstance(ok, float) and pd.isna(ok)):
            vehicle[plate] = plate
            rows.append((plate, plate, "exact", 1.0, int(n), 0))
            continue
        if not ok:
            rows.append((plate, None, "unreadable", 0.0, int(n), 0))
            continue
        found = None
        for evidence, others in (
            ("confusable", by_fold.get(fold, ())),
            ("province", by_tail.get(tail, ())),
            ("missing_character", by_deletion.get(fold, ())),
        ):
            targets = {
                vehicle[o]
                for o in others
                if o != plate and o in vehicle and count[o] >= dominance * n
            }
            if targets:
                found = (evidence, targets)
                break
        if found is None:
            vehicle[plate] = plate
            rows.append((plate, plate, "exact", 1.0, int(n), 0))
            continue
        evidence, targets = found
        if len(targets) > 1:
            vehicle[plate] = plate
            rows.append((plate, plate, "ambiguous", 0.0, int(n), len(targets)))
            continue
        target = next(iter(targets))
        vehicle[plate] = target
        share = count[target] / (count[target] + n)
        rows.append(
            (
                plate,
                target,
                evidence,
                round(float(evidence_confidence[evidence]) * float(share), 4),
                int(n),
                1,
            )
        )
    return pd.DataFrame(rows, columns=_COLUMNS)
