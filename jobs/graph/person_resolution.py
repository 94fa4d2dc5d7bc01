"""Which person mentions are one person: by ID hash, else by name and phone.

A mention with an ID number is the person of that ID. A mention without
one is compared, field by field, with the persons known by ID that share a
blocking key with it (phone, a one-digit-off phone, or the name's sound),
and scored the Fellegi–Sunter way: each agreeing field adds its weight
``log2(m/u)``, a disagreeing one its (negative) ``log2((1-m)/(1-u))``, from
configuration (``graph.er.person_weights``). It joins the
best-scoring person when the score reaches ``threshold`` and no other
person scores as high; otherwise it is matched among the other mentions
without an ID by the same rule, and a group of them is one person of its
own (``anon:`` followed by the group's smallest phone or name token).

Fields, each counted once, strongest agreement only:

``phone``
    the same phone number (``phone_near``: one digit apart);
``name``
    the same name (``name_sound``: the same toneless pinyin); a name that
    is neither, where the person has names, *disagrees*
    (``name_disagree``, a negative weight): a shared family phone does not
    make two people one;
``village``
    the mention's village is one the person was seen in (optional column
    ``village_code``): residents appear mostly where they live, and a name
    is far more telling within one village than across a district.

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
>>> out = resolve_persons(mentions, weights={"phone": 9, "phone_near": 4, "name": 5,
...     "name_sound": 3, "name_disagree": -6, "village": 4}, threshold=9)
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
FIELDS = {
    "phone": ("phone", "phone_near"),
    "name": ("name", "name_sound", "name_disagree"),
    "place": ("village",),
}
_COLUMNS = ["mention_key", "person_id", "evidence", "confidence", "contradictory"]


class _Profile:
    __slots__ = ("phones", "deletions", "names", "sounds", "villages")

    def __init__(self):
        self.phones, self.deletions, self.names, self.sounds = set(), set(), set(), set()
        self.villages = set()

    def add(self, phone, deletions, name, sound, village=None):
        if isinstance(phone, str):
            self.phones.add(phone)
        self.deletions.update(deletions if deletions is not None else ())
        if isinstance(name, str):
            self.names.add(name)
        if isinstance(sound, str):
            self.sounds.add(sound)
        if isinstance(village, str):
            self.villages.add(village)


def _agreements(profile: _Profile, phone, deletions, name, sound, village=None) -> list[str]:
    found = []
    if isinstance(village, str) and village in profile.villages:
        found.append("village")
    if isinstance(phone, str) and phone in profile.phones:
        found.append("phone")
    elif deletions is not None and profile.deletions.intersection(deletions):
        found.append("phone_near")
    if isinstance(name, str) and name in profile.names:
        found.append("name")
    elif isinstance(sound, str) and sound in profile.sounds:
        found.append("name_sound")
    elif isinstance(name, str) and profile.names:
        found.append("name_disagree")
    return found


def _block_keys(phone, deletions, name, sound) -> list:
    """The blocking keys of a mention: phone, name sound, name and phone deletions."""
    keys = [("t", phone), ("s", sound), ("n", name)] + [("d", d) for d in deletions or ()]
    return [k for k in keys if isinstance(k[1], str)]


def _score(agree: list[str], weights: dict) -> float:
    """Sum of the fields' weights; a place alone identifies nobody."""
    if not set(agree) - {"village", "name_disagree"}:
        return 0.0
    return sum(float(weights[a]) for a in agree)


def _best(candidates: dict, profiles: dict, row, weights: dict, threshold: float):
    """The unique best candidate at or above ``threshold``, with its agreements."""
    scored = []
    for person in candidates:
        agree = _agreements(profiles[person], *row)
        score = _score(agree, weights)
        if score >= threshold:
            scored.append((score, person, agree))
    if not scored:
        return None
    scored.sort(key=lambda s: (-s[0], s[1]))
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None  # a tie is not a match
    return scored[0]


def resolve_persons(
    mentions: pd.DataFrame, *, weights: dict, threshold: float, max_passes: int = 3
) -> pd.DataFrame:
    """One row per mention: the person it is, by what evidence, how sure.

    ``mentions`` has ``mention_key`` (unique), ``id_hash``, ``name_hash``,
    ``name_sound_hash``, ``phone_hash`` and ``phone_deletion_hashes``, and
    may have ``village_code``. A
    mention with none of ID, name or phone gets no person (evidence
    ``no_identifier``). Mentions that join a person add their fields to it,
    and the unmatched are tried again, up to ``max_passes`` passes.
    """
    needed = {
        "mention_key",
        "id_hash",
        "name_hash",
        "name_sound_hash",
        "phone_hash",
        "phone_deletion_hashes",
    }
    missing = needed - set(mentions.columns)
    if missing:
        raise ValueError(f"person mentions lack columns {sorted(missing)}")
    unknown = {a for field in FIELDS.values() for a in field} - set(weights)
    if unknown:
        raise ValueError(f"person weights lack {sorted(unknown)}")
    if threshold <= 0:
        raise ValueError(f"threshold={threshold} must be > 0")
    frame = mentions.sort_values("mention_key", kind="mergesort")
    if "village_code" not in frame.columns:
        frame = frame.assign(village_code=None)
    cols = [
        "mention_key",
        "id_hash",
        "phone_hash",
        "phone_deletion_hashes",
        "name_hash",
        "name_sound_hash",
        "village_code",
    ]
    records = list(frame[cols].itertuples(index=False, name=None))

    profiles: dict = {}
    blocks: dict = {}

    def block(person, phone, deletions, name, sound):
        for key in _block_keys(phone, deletions, name, sound):
            blocks.setdefault(key, set()).add(person)

    for _, pid, phone, deletions, name, sound, village in records:
        if isinstance(pid, str):
            profiles.setdefault(pid, _Profile()).add(phone, deletions, name, sound, village)
            block(pid, phone, deletions, name, sound)

    def candidates(phone, deletions, name, sound) -> dict:
        found: dict = {}
        for key in _block_keys(phone, deletions, name, sound):
            found.update(dict.fromkeys(blocks.get(key, ())))
        return found

    out, pending = [], []
    for key, pid, phone, deletions, name, sound, village in records:
        if isinstance(pid, str):
            sounds = profiles[pid].sounds
            out.append((key, pid, "id", 1.0, len(sounds) > 1))
            continue
        row = (phone, deletions, name, sound, village)
        if not any(isinstance(v, str) for v in (phone, name, sound)):
            out.append((key, None, "no_identifier", 0.0, False))
            continue
        pending.append((key, row))

    # A mention that joins a person lends the person its fields (a caller's
    # phone, the village of a report), so that later passes can join the
    # mentions that only those fields tie to the person.
    for _ in range(max_passes):
        unresolved = []
        for key, row in pending:
            best = _best(candidates(*row[:4]), profiles, row, weights, threshold)
            if best is None:
                unresolved.append((key, row))
                continue
            score, person, agree = best
            out.append((key, person, "+".join(agree), round(posterior(score), 6), False))
            profiles[person].add(*row)
            block(person, *row[:4])
        if len(unresolved) == len(pending):
            break
        pending = unresolved

    # Mentions without an ID that matched no one: grouped among themselves
    # by the same rule, in key order (each joins the first group it matches).
    groups: list = []
    for key, row in pending:
        joined = None
        for group in groups:
            agree = _agreements(group["profile"], *row)
            score = _score(agree, weights)
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
