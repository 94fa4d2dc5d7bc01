"""The states of a work order (派单) and the moves between them.

A case is dispatched to a department, which accepts it or returns it; an
accepted case is handled, the handling is verified by the center, and a
verified case is closed. A handled case whose verification fails, and a
closed case that comes back, are reopened; a returned case is dispatched
again.

>>> move("dispatched", "accepted")
'accepted'
>>> move("dispatched", "closed")
Traceback (most recent call last):
...
ValueError: a case in state 'dispatched' (已派单) cannot move to 'closed'; allowed: accepted, returned
"""

from __future__ import annotations

__all__ = ["STATE_LABELS", "TRANSITIONS", "FIRST_STATE", "move"]

#: What duty staff read for each state.
STATE_LABELS = {
    "dispatched": "已派单",
    "accepted": "已受理",
    "returned": "已退回",
    "handled": "已处置",
    "verified": "已核查",
    "closed": "已结案",
    "reopened": "已重启",
}

#: The state of a case when it is made.
FIRST_STATE = "dispatched"

#: From each state, the states a case may move to.
TRANSITIONS = {
    "dispatched": ("accepted", "returned"),
    "returned": ("dispatched",),
    "accepted": ("handled",),
    "handled": ("verified", "reopened"),
    "verified": ("closed", "reopened"),
    "closed": ("reopened",),
    "reopened": ("accepted", "handled"),
}


def move(state: str, to: str) -> str:
    """The case's new state; a one-line error naming the move when it is not allowed."""
    if state not in TRANSITIONS:
        raise ValueError(f"state={state!r} is not one of: {', '.join(TRANSITIONS)}")
    if to not in TRANSITIONS[state]:
        raise ValueError(
            f"a case in state {state!r} ({STATE_LABELS[state]}) cannot move to {to!r}; "
            f"allowed: {', '.join(TRANSITIONS[state])}"
        )
    return to
