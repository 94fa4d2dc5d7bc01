"""Tests for features.dead_letter: routing to the normalized or dead-letter topic.

The ``ctx`` and ``grid_event`` fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import json

from features.dead_letter import DEAD_LETTER, NORMALIZED, route_raw_record

from .contract_reference import NOW_MS, token


def test_route_normalizes_or_dead_letters_without_raising(ctx, grid_event):
    destination, key, value = route_raw_record(
        json.dumps(grid_event),
        ctx,
        NOW_MS,
        channel="grid",
        topic="zz.raw.grid",
        partition=0,
        offset=5,
    )
    assert (destination, key) == (NORMALIZED, "grid-1")
    assert json.loads(value)["event_id"] == "grid-1"

    broken = json.dumps(grid_event)[:-40]
    destination, key, value = route_raw_record(
        broken, ctx, NOW_MS, channel="grid", topic="zz.raw.grid", partition=1, offset=9
    )
    letter = json.loads(value)
    assert (destination, key) == (DEAD_LETTER, "zz.raw.grid-1-9")
    assert letter["reason_code"] == "invalid_json"
    assert (letter["topic"], letter["partition"], letter["offset"]) == ("zz.raw.grid", 1, 9)
    # The dead letter keeps the record, with identifiers pseudonymized.
    assert "11010519491231002X" not in letter["raw_scrubbed"]
    assert "pid_" + token("id_number", "11010519491231002X") in letter["raw_scrubbed"]

    destination, _, value = route_raw_record(None, ctx, NOW_MS, channel="grid")
    assert destination == DEAD_LETTER
    assert json.loads(value)["reason"] == "record has no value"
