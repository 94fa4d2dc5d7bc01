"""Hot issues (热点问题): citizens' messages grouped into issues, ranked by a heat index.

**What makes an issue.** Messages about one issue name the same particular
thing in their subjects: a housing estate (丽发新城), a project, a case
(58车贷). Subjects are compared by the cosine of their character 2–3-gram
TF-IDF, keeping only n-grams found in at most ``max_df`` of the messages:
the boilerplate every subject shares (A市, 关于, 请问, 的问题) drops out, and
what remains is what the subject is about. Two messages are neighbours
when that similarity is at least ``similarity``, they were left within
``window_days`` of each other, and they do not name different counties or
districts (A3区 against A7县; a message that names none may join either).

**Grouping.** DBSCAN over those neighbours: a message with at least
``min_messages - 1`` neighbours is a core of an issue, issues grow through
cores only, and a message that is only a neighbour joins without
extending. Single linkage instead chains unrelated issues through one
ambiguous subject. A message in no group is an issue of its own: one
message may collect thousands of votes.

**Heat.** For an issue of ``n`` messages from ``u`` distinct users with
``v`` net votes (likes less dislikes, at least 0), ``r`` of them left in
the newest third of the issue's span::

    heat = ln(1 + n) + ln(1 + u) + ln(1 + v) / 2 + growth
    growth = ln((1 + r) / (1 + n - r)) / 2   (0 for an issue within one day)

Volume and spread count most, each doubling adding the same; votes count
half, because supporters vote rather than write and a few messages collect
thousands; an issue still gathering messages at the end of its span ranks
above one that has died down. A single message has heat
``2 ln 2 + ln(1 + v) / 2``.

Reference: the 2020 Teddy Cup, problem C, task 2 (热点问题挖掘), on the
4,326 voted messages of ``shared/data/hotline_teddy2020``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.cluster import DBSCAN
from sklearn.feature_extraction.text import TfidfVectorizer

from models.hotline_routing import clean_message

__all__ = ["HotIssueParams", "counties_named", "heat", "hot_issues"]

# A county-level unit in the anonymized exports: A3区, A7县, K9县.
_COUNTY = re.compile(r"[A-Z]\d{1,2}[区县]")
#: Key phrases shown per issue.
KEY_PHRASES = 3


@dataclass(frozen=True)
class HotIssueParams:
    """How alike and how close in time messages of one issue are, and how many issues to give."""

    similarity: float = 0.35
    window_days: float = 60.0
    min_messages: int = 3
    max_df: float = 0.01
    top: int = 10

    def __post_init__(self):
        if not 0 < self.similarity <= 1:
            raise ValueError(f"similarity={self.similarity!r} must be within (0, 1]")
        if not 0 < self.max_df <= 1:
            raise ValueError(f"max_df={self.max_df!r} must be within (0, 1]")
        if self.window_days <= 0 or self.top < 1 or self.min_messages < 2:
            raise ValueError(
                f"window_days={self.window_days!r} and top={self.top!r} must be > 0, "
                f"min_messages={self.min_messages!r} at least 2"
            )


def counties_named(text: str) -> frozenset[str]:
    """The counties and districts a message names.

    >>> sorted(counties_named("A市A3区联丰路，近A7县"))
    ['A3区', 'A7县']
    """
    return frozenset(_COUNTY.findall(text))


def heat(messages: int, users: int, net_votes: int, recent: int, one_day: bool) -> float:
    """The heat index of an issue (module docstring).

    >>> round(heat(1, 1, 0, 1, True), 4) == round(2 * math.log(2), 4)
    True
    >>> heat(10, 8, 100, 6, False) > heat(10, 8, 100, 2, False)
    True
    """
    growth = 0.0 if one_day else math.log((1 + recent) / (1 + messages - recent)) / 2
    return math.log1p(messages) + math.log1p(users) + math.log1p(max(net_votes, 0)) / 2 + growth


def _neighbours(subjects, days, counties, params: HotIssueParams):
    """The sparse distance matrix (1 - similarity) of every pair of neighbours, and the vectorizer."""
    vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=(2, 3), min_df=2, max_df=params.max_df, sublinear_tf=True
    )
    try:
        vectors = vectorizer.fit_transform(subjects)
    except ValueError:  # no n-gram in two subjects: nobody is anybody's neighbour
        return sp.csr_matrix((len(subjects), len(subjects))), None, None
    pairs = (vectors @ vectors.T).tocoo()
    i, j, similarity = pairs.row, pairs.col, pairs.data
    keep = (similarity >= params.similarity - 1e-12) & (i != j)
    keep &= np.abs(days[i] - days[j]) <= params.window_days
    # The counties are compared only for pairs alike and close enough; as
    # codes when no message names two.
    close = np.flatnonzero(keep)
    if all(len(c) <= 1 for c in counties):
        index = {c: k for k, c in enumerate(sorted({c for cs in counties for c in cs}))}
        code = np.array([index[next(iter(c))] if c else -1 for c in counties])
        a, b = code[i[close]], code[j[close]]
        keep[close] = (a < 0) | (b < 0) | (a == b)
    else:
        keep[close] = [
            not (counties[a] and counties[b]) or bool(counties[a] & counties[b])
            for a, b in zip(i[close], j[close])
        ]
    # A stored distance of 0 would read as no edge: identical subjects get a hair above it.
    distance = np.maximum(1.0 - similarity[keep], 1e-9)
    n = len(subjects)
    return sp.csr_matrix((distance, (i[keep], j[keep])), shape=(n, n)), vectors, vectorizer


def grown_phrase(gram: str, texts: list[str], share: float = 0.6) -> str:
    """``gram`` extended, a character at a time, while most texts holding it hold the extension.

    >>> grown_phrase("景园", ["伊景园滨河苑车位", "关于伊景园滨河苑", "伊景园的问题"])
    '伊景园滨河苑'
    """
    holding = [t for t in texts if gram in t]
    while holding:
        grown = False
        for side in (-1, 1):
            nexts = [
                (t[i - 1] if side < 0 else t[i + len(gram)])
                for t in holding
                for i in [t.find(gram)]
                if (i > 0 if side < 0 else i + len(gram) < len(t))
            ]
            if nexts:
                char = max(set(nexts), key=nexts.count)
                longer = char + gram if side < 0 else gram + char
                if sum(longer in t for t in holding) >= share * len(holding):
                    gram, grown = longer, True
                    holding = [t for t in holding if gram in t]
        if not grown:
            return gram
    return gram


def _key_phrases(vectors, vectorizer, rows, subjects: list[str]) -> list[str]:
    """The issue's heaviest n-grams of its subjects, each grown to the phrase it is part of."""
    if vectors is None:
        return []
    weight = np.asarray(vectors[rows].sum(axis=0)).ravel()
    names = vectorizer.get_feature_names_out()
    texts = [subjects[r].lower() for r in rows]
    chosen: list[str] = []
    for k in np.argsort(-weight, kind="stable")[:20]:
        if weight[k] <= 0:
            break
        phrase = grown_phrase(str(names[k]), texts)
        if any(phrase in c or c in phrase for c in chosen):
            continue
        chosen.append(phrase)
        if len(chosen) == KEY_PHRASES:
            break
    return chosen


def hot_issues(messages: pd.DataFrame, params: HotIssueParams = HotIssueParams()) -> dict:
    """Group ``messages`` into issues; ``issues`` (the ``top`` hottest) and ``groups`` counted.

    ``messages`` has ``id``, ``user``, ``title``, ``body``, ``time``
    (timestamps), ``likes`` and ``dislikes``; with a ``place`` column, it
    blocks instead of the counties the texts name (messages of two places
    are never one issue). Each issue: ``rank``,
    ``heat``, ``messages``, ``users``, ``net_votes``, ``first`` and
    ``last`` (dates), ``counties``, ``key_phrases`` and its ``items``
    (``id``, ``title``, ``time``, ``likes``), most liked first.
    """
    n = len(messages)
    if n == 0:
        return {"messages": 0, "groups": 0, "issues": []}
    subjects = [clean_message(t) for t in messages["title"]]
    full = [s + clean_message(b) for s, b in zip(subjects, messages["body"], strict=True)]
    times = pd.to_datetime(messages["time"])
    days = ((times - times.min()).dt.total_seconds() / 86400).to_numpy()
    counties = (
        [frozenset([str(p)]) if p else frozenset() for p in messages["place"]]
        if "place" in messages.columns
        else [counties_named(t) for t in full]
    )
    distances, vectors, vectorizer = _neighbours(subjects, days, counties, params)
    labels = DBSCAN(
        eps=1.0 - params.similarity + 1e-9, min_samples=params.min_messages, metric="precomputed"
    ).fit_predict(distances)
    # Every message in no group is an issue of its own.
    alone = labels < 0
    labels[alone] = labels.max(initial=-1) + 1 + np.arange(int(alone.sum()))
    likes = messages["likes"].to_numpy(dtype=np.int64)
    dislikes = messages["dislikes"].to_numpy(dtype=np.int64)
    users = messages["user"].to_numpy(dtype=object)
    dates = times.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    # Every group's heat first; the details only of the ``top`` hottest.
    groups = []
    for rows in pd.Series(np.arange(n)).groupby(labels).groups.values():
        rows = np.asarray(rows)
        first, last = days[rows].min(), days[rows].max()
        recent = int((days[rows] >= last - (last - first) / 3).sum())
        net = int(likes[rows].sum() - dislikes[rows].sum())
        distinct = len(set(users[rows]))
        score = round(heat(rows.size, distinct, net, recent, last - first < 1), 4)
        groups.append((score, min(dates[rows]), rows, distinct, net))
    groups.sort(key=lambda group: (-group[0], group[1]))
    ids = messages["id"].astype(str).tolist()
    stamps = [t.isoformat() for t in times]
    issues = []
    for score, first_day, rows, distinct, net in groups[: params.top]:
        order = rows[np.argsort(-likes[rows], kind="stable")]
        issues.append(
            {
                "heat": score,
                "messages": int(rows.size),
                "users": distinct,
                "net_votes": max(net, 0),
                "first": first_day,
                "last": max(dates[rows]),
                "counties": sorted(set().union(*(counties[r] for r in rows))),
                "key_phrases": (
                    _key_phrases(vectors, vectorizer, rows, subjects) if rows.size > 1 else []
                ),
                "items": [
                    {
                        "id": ids[r],
                        "title": subjects[r],
                        "time": stamps[r],
                        "likes": int(likes[r]),
                    }
                    for r in order
                ],
            }
        )
    return {
        "messages": n,
        "groups": int(sum(1 for group in groups if group[2].size > 1)),
        "issues": [{"rank": k + 1, **issue} for k, issue in enumerate(issues)],
    }
