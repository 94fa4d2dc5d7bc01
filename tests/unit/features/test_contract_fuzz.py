"""Fuzz and property tests of the contract's edge: any bytes in, one valid JSON record out.

:func:`features.dead_letter.route_raw_record` must never raise, and for any
input return either a normalized record or a dead letter with a reason, as
strict UTF-8 JSON within the output limit. A seeded corpus of 10,000
adversarial records (:mod:`.adversarial_records`) checks the reason of
each kind of damage; hypothesis (derandomized, so CI runs are repeatable)
throws arbitrary bytes, text and JSON values at it.

The ``ctx``, ``village`` and ``grid_event`` fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import copy
import json
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.contract_violation import REASON_CODES
from features.dead_letter import DEAD_LETTER, NORMALIZED, route_raw_record

from .adversarial_records import adversarial_records
from .contract_reference import NOW_MS

FUZZ = settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

CORPUS_SIZE = 10_000


def _strict_json(value: str) -> dict:
    """Parse output as a strict consumer would: UTF-8 bytes, no NaN or Infinity."""

    def refuse(name):
        raise AssertionError(f"output holds {name}")

    return json.loads(value.encode("utf-8"), parse_constant=refuse)


def check_routed(routed, ctx, raw) -> dict:
    """The properties every routed record has; returns its parsed value."""
    destination, key, value = routed
    assert destination in (NORMALIZED, DEAD_LETTER)
    assert len(value.encode("utf-8")) <= ctx.limits.output_bytes
    payload = _strict_json(value)
    key.encode("utf-8")  # a Kafka key is written as UTF-8 too
    if destination == NORMALIZED:
        assert key == payload["event_id"]
    else:
        assert payload["reason_code"] in REASON_CODES
        assert payload["reason"]
        if raw is not None:
            assert payload["raw_bytes"] == len(
                raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
            )
    return payload


def _route(raw, ctx, channel="grid", offset=0):
    return route_raw_record(
        raw, ctx, NOW_MS, channel=channel, topic=f"zz.raw.{channel}", partition=0, offset=offset
    )


# What each kind of damage must be refused for; None: normalized or not,
# depending on the draw.
EXPECTED_REASONS = {
    "valid": {None},
    "embedded_identifiers": {None},
    "replayed": {None},
    "truncated": {"invalid_json", "invalid_encoding"},  # cut inside a character
    "invalid_utf8": {"invalid_encoding"},
    "lone_surrogate": {"invalid_encoding"},
    "huge_field": {None, "too_large"},
    "huge_record": {"too_large"},
    "deep_nesting": {"too_large"},
    "bad_number": {"invalid_json"},
    "duplicate_key": {"invalid_json"},
    "old_or_far_time": {"past_timestamp", "future_timestamp", "bad_value"},
    "wrong_type": {"wrong_type", "missing_field", "too_large"},
    "junk": {None, "invalid_json", "invalid_encoding", "missing_field", "wrong_type"},
    "tombstone": {"invalid_json"},
}


def test_10000_adversarial_records_each_route_to_one_valid_output(ctx, bases):
    corpus = adversarial_records(bases, CORPUS_SIZE, seed=12)
    assert len(corpus) == CORPUS_SIZE
    outcomes = Counter()
    normalized_ids = Counter()
    for offset, record in enumerate(corpus):
        routed = _route(record.value, ctx, record.channel, offset)
        payload = check_routed(routed, ctx, record.value)
        reason = payload["reason_code"] if routed[0] == DEAD_LETTER else None
        assert reason in EXPECTED_REASONS[record.kind], (record.kind, payload.get("reason"))
        if reason is None:
            normalized_ids[payload["event_id"]] += 1
        outcomes[record.kind, reason] += 1
    # Every kind was drawn, and the valid ones were normalized.
    kinds = {kind for kind, _ in outcomes}
    assert kinds == set(EXPECTED_REASONS)
    assert outcomes["valid", None] > 500
    assert outcomes["embedded_identifiers", None] > 500
    # A replayed record is normalized both times: deduplication is downstream.
    assert max(normalized_ids.values()) == 2
    assert sum(outcomes[k] for k in outcomes if k[1] == "too_large") > 500


@FUZZ
@given(raw=st.binary(max_size=4096))
def test_any_bytes_route_to_one_valid_output(ctx, raw):
    check_routed(_route(raw, ctx), ctx, raw)


@FUZZ
@given(raw=st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=2048))
def test_any_text_even_with_lone_surrogates_routes_to_one_valid_output(ctx, raw):
    check_routed(_route(raw, ctx), ctx, raw)


_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=64)
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=30,
)
_FIELDS = st.sampled_from(
    [
        ("event_id",),
        ("source",),
        ("category",),
        ("event_time",),
        ("report_time",),
        ("location",),
        ("location", "lon"),
        ("location", "lat"),
        ("location", "crs"),
        ("persons",),
        ("vehicles",),
        ("attributes",),
        ("attributes", "description"),
        ("attributes", "extra"),
        ("schema_version",),
    ]
)


@settings(FUZZ, max_examples=200)
@given(changes=st.lists(st.tuples(_FIELDS, _JSON_VALUES), min_size=1, max_size=4))
def test_any_json_value_in_any_field_routes_to_one_valid_output(ctx, grid_event, changes):
    envelope = copy.deepcopy(grid_event)
    for path, value in changes:
        target = envelope
        for step in path[:-1]:
            if not isinstance(target.get(step), dict):
                target[step] = {}
            target = target[step]
        target[path[-1]] = value
    raw = json.dumps(envelope, ensure_ascii=False).encode("utf-8", "surrogatepass")
    check_routed(_route(raw, ctx), ctx, raw)


@FUZZ
@given(cut=st.integers(min_value=0), noise=st.binary(min_size=1, max_size=8))
def test_damaged_valid_records_route_to_one_valid_output(ctx, grid_event, cut, noise):
    raw = json.dumps(grid_event, ensure_ascii=False).encode()
    at = cut % len(raw)
    damaged = raw[:at] + noise + raw[at:]
    check_routed(_route(damaged, ctx), ctx, damaged)
