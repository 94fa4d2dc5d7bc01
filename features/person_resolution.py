"""Which person mentions are one person: by ID hash, else by name and phone.

A mention with an ID number is the person of that ID. A mention without
one is compared, field by field, with the persons known by ID that share a
blocking key with it (phone, a one-digit-off phone, or the name's sound),
and scored the Fellegi–Sunter way: each agreeing field adds its weight
``log2(m/u)`` from configuration (``graph.er.person_weights``). It joins the
best-scoring person when the score reaches ``threshold`` and no other
person scores as high; otherwise it is matched among the other mentions
without an ID by the same rule, and a group of them is one person of its
own (``anon:`` followed by the group's smallest phone or name token).

Fields, each counted once, strongest agreement only:

``phone``
    the same phone number (``phone_near``: one digit apart);
``name``
    the same name (``name_sound``: the same toneless pinyin).

Every merge keeps its evidence (the agreeing fields) and a confidence, the
logistic of the score (a posterior with even prior odds). A person known by
ID whose mentions carry names that sound different is flagged
``contradictory``: kept as one person (the ID decides), and reported.

Examples
--------
>>> import pandas as pd
>>> mentions = pd.DataFrame({
...     "mention_key": ["m1", "m2", "m3"], "id_hash": ["pid_a", None, None],
...     "name_hash": ["n1", "n2", "n9"], "name_sound_hash": ["s1", "s1", "s9"],
...     "phone_hash": ["t1", "t1", "t9"],
...     "phone_deletion_hashes": [["d1"], ["d1"], ["d9"]]})
>>> out = resolve_persons(mentions, weights={"phone": 7, "phone_near": 4, "name": 5,
...                                          "name_sound": 3}, threshold=9)
>>> sorted(out.set_index("mention_key")["person_id"].items())
[('m1', 'pid_a'), ('m2', 'pid_a'), ('m3', 'anon:t9')]
>>> out.set_index("mention_key").loc["m2", "evidence"]
'phone+name_sound'
"""
from __future__ import annotations

import math

import pandas as pd

__all__ = ["FIELDS", "resolve_persons", "posterior"]

#: Agreements scored, per field strongest first.
FIELDS = {"phone": ("phone", "phone_near"), "name": ("name", "name_sound")}
_COLUMNS = ["mention_key", "person_id", "evidence", "confidence", "contradictory"]


class _Profile:
    __slots__ = ("phones", "deletions", "names", "sounds")

    def __init__(self):
        self.phones, self.deletions, self.names, self.sounds = set(), set(), set(), set()

    def add(self, phone, deletions, name, sound):
        if isinstance(phone, str):
            self.phones.add(phone)
        self.deletions.update(deletions if deletions is not None else ())
        if isinstance(name, str):
            self.names.add(name)
        if isinstance(sound, str):
            self.sounds.add(sound)


def _agreements(profile: _Profile, phone, deletions, name, sound) -> list[str]:
    found = []
    if isinstance(phone, str) and phone in profile.phones:
        found.append("phone")
    elif deletions is not None and profile.deletions.intersection(deletions):
        found.append("phone_near")
    if isinstance(name, str) and name in profile.names:
        found.append("name")
    elif isinstance(sound, str) and sound in profile.sounds:
        found.append("name_sound")
    return found


def _best(candidates: dict, profiles: dict, row, weights: dict, threshold: float):
    """The unique best candidate at or above ``threshold``, with its agreements."""
    scored = []
    for person in candidates:
        agree = _agreements(profiles[person], *row)
        score = sum(float(weights[a]) for a in agree)
        if score >= threshold:
            scored.append((score, person, agree))
    if not scored:
        return None
    scored.sort(key=lambda s: (-s[0], s[1]))
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None                                          # a tie is not a match
    return scored[0]


def resolve_persons(mentions: pd.DataFrame, *, weights: dict, threshold: float) -> pd.DataFrame:
    """One row per mention: the person it is, by what evidence, how sure.

    ``mentions`` has ``mention_key`` (unique), ``id_hash``, ``name_hash``,
    ``name_sound_hash``, ``phone_hash`` and ``phone_deletion_hashes``. A
    mention with none of ID, name or phone gets no person (evidence
    ``no_identifier``).
    """
    needed = {"mention_key", "id_hash", "name_hash", "name_sound_hash", "phone_hash",
              "phone_deletion_hashes"}
    missing = needed - set(mentions.columns)
    if missing:
        raise ValueError(f"person mentions lack columns {sorted(missing)}")
    unknown = {a for field in FIELDS.values() for a in field} - set(weights)
    if unknown:
        raise ValueError(f"person weights lack {sorted(unknown)}")
    if threshold <= 0:
        raise ValueError(f"threshold={threshold} must be > 0")
    frame = mentions.sort_values("mention_key", kind="mergesort")
    cols = ["mention_key", "id_hash", "phone_hash", "phone_deletion_hashes", "name_hash",
            "name_sound_hash"]
    records = list(frame[cols].itertuples(index=False, name=None))

    profiles: dict = {}
    blocks: dict = {}

    def block(person, phone, deletions, name, sound):
        keys = [("t", phone), ("s", sound), ("n", name)] + [("d", d) for d in deletions or ()]
        for key in keys:
            if isinstance(key[1], str):
                blocks.setdefault(key, set()).add(person)

    for _, pid, phone, deletions, name, sound in records:
        if isinstance(pid, str):
            profiles.setdefault(pid, _Profile()).add(phone, deletions, name, sound)
            block(pid, phone, deletions, name, sound)

    def candidates(phone, deletions, name, sound) -> dict:
        found: dict = {}
        for key in [("t", phone), ("s", sound), ("n", name)] + [("d", d)
                                                                  for d in deletions or ()]:
            found.update(dict.fromkeys(blocks.get(key, ())))
        return found

    out, pending = [], []
    for key, pid, phone, deletions, name, sound in records:
        if isinstance(pid, str):
            sounds = profiles[pid].sounds
            out.append((key, pid, "id", 1.0, len(sounds) > 1))
            continue
        row = (phone, deletions, name, sound)
        if not any(isinstance(v, str) for v in (phone, name, sound)):
            out.append((key, None, "no_identifier", 0.0, False))
            continue
        best = _best(candidates(*row), profiles, row, weights, threshold)
        if best is None:
            pending.append((key, row))
            continue
        score, person, agree = best
        out.append((key, person, "+".join(agree), round(posterior(score), 6), False))

    # Mentions without an ID that matched no one: grouped among themselves
    # by the same rule, in key order (each joins the first group it matches).
    groups: list = []
    for key, row in pending:
        joined = None
        for group in groups:
            agree = _agreements(group["profile"], *row)
            score = sum(float(weights[a]) for a in agree)
            if score >= threshold:
                joined = (group, agree, score)
                break
        if joined is None:
            profile = _Profile()
            profile.add(*row)
            groups.append({"profile": profile, "members": [(key, "new", 1.0)]})
            continue
        group, agree, score = joined
        group["profile"].add(*row)
        group["members"].append((key, "+".join(agree), round(posterior(score), 6)))
    for group in groups:
        profile = group["profile"]
        person = "anon:" + min(profile.phones or profile.names or profile.sounds)
        contradictory = len(group["profile"].sounds) > 1
        for key, evidence, confidence in group["members"]:
            out.append((key, person, evidence, confidence, contradictory))
    return pd.DataFrame(out, columns=_COLUMNS)


def posterior(score: float) -> float:
    """The match probability of a Fellegi–Sunter score at even prior odds.

    >>> posterior(0.0), round(posterior(10.0), 4)
    (0.5, 0.999)
    """
    return 1 / (1 + math.pow(2, -score))
