"""Tests for features.case_workflow: every state reachable from dispatch, and only declared moves."""

from __future__ import annotations

import pytest

from features.case_workflow import FIRST_STATE, STATE_LABELS, TRANSITIONS, move


def test_every_state_is_reachable_and_closed_is_reached():
    seen, frontier = {FIRST_STATE}, [FIRST_STATE]
    while frontier:
        for to in TRANSITIONS[frontier.pop()]:
            if to not in seen:
                seen.add(to)
                frontier.append(to)
    assert seen == set(STATE_LABELS) == set(TRANSITIONS)


def test_the_usual_path_to_closure():
    state = FIRST_STATE
    for to in ("accepted", "handled", "verified", "closed"):
        state = move(state, to)
    assert state == "closed"


@pytest.mark.parametrize(
    "state, to", [("dispatched", "handled"), ("closed", "accepted"), ("returned", "closed")]
)
def test_an_undeclared_move_is_refused_by_name(state, to):
    with pytest.raises(ValueError, match=f"cannot move to '{to}'; allowed: "):
        move(state, to)


def test_an_unknown_state_is_named():
    with pytest.raises(ValueError, match="state='lost' is not one of"):
        move("lost", "closed")
