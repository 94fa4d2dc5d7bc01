import pytest

from models.cluster_lifecycle import ClusterTracker, Detection

ADJACENT = {"a": ["b"], "b": ["a", "c"], "c": ["b"], "x": []}


def _tracker(**kwargs):
    return ClusterTracker(lambda cell: ADJACENT.get(cell, ()), slide_s=300, **kwargs)


def _look(tracker, end, *detections):
    return [(c.cluster_id, s) for c, s in tracker.look(end, list(detections))]


def test_one_cluster_keeps_its_id_while_it_moves_to_adjacent_cells():
    tracker = _tracker()
    [(first, status)] = _look(tracker, 300, Detection("fight", frozenset({"a"}), 10.0))
    assert status == "new"
    assert _look(tracker, 600, Detection("fight", frozenset({"b"}), 11.0)) == [(first, "ongoing")]
    assert _look(tracker, 900, Detection("fight", frozenset({"c"}), 12.0)) == [(first, "ongoing")]


def test_another_category_or_a_distant_cell_is_another_cluster():
    tracker = _tracker()
    [(first, _)] = _look(tracker, 300, Detection("fight", frozenset({"a"}), 10.0))
    updates = _look(
        tracker,
        600,
        Detection("fight", frozenset({"a"}), 10.0),
        Detection("theft", frozenset({"a"}), 9.0),
        Detection("fight", frozenset({"x"}), 8.0),
    )
    assert updates[0] == (first, "ongoing")
    assert [s for _, s in updates[1:]] == ["new", "new"]
    assert len({cid for cid, _ in updates}) == 3


def test_escalation_is_measured_from_the_last_reported_level():
    tracker = _tracker(escalation_ratio=1.5)
    _look(tracker, 300, Detection("fight", frozenset({"a"}), 10.0))
    statuses = [
        _look(tracker, 300 * k, Detection("fight", frozenset({"a"}), llr))[0][1]
        for k, llr in ((2, 14.0), (3, 15.0), (4, 22.0), (5, 30.0), (6, 33.0))
    ]
    # 15 >= 1.5 x 10 escalates; then 22 < 1.5 x 15, 30 >= 22.5, 33 < 45.
    assert statuses == ["ongoing", "escalating", "ongoing", "escalating", "ongoing"]


def test_a_cluster_ends_after_quiet_looks_and_a_new_one_gets_a_new_id():
    tracker = _tracker(quiet_looks=2)
    [(first, _)] = _look(tracker, 300, Detection("fight", frozenset({"a"}), 10.0))
    assert _look(tracker, 600) == []
    assert _look(tracker, 900) == [(first, "ended")]
    [(second, status)] = _look(tracker, 1200, Detection("fight", frozenset({"a"}), 10.0))
    assert status == "new" and second != first


def test_ids_depend_on_the_stream_only():
    ids = [
        _look(_tracker(), 300, Detection("fight", frozenset({"a", "b"}), 10.0))[0][0]
        for _ in range(2)
    ]
    assert ids[0] == ids[1]


def test_bad_parameters_name_the_value():
    with pytest.raises(ValueError, match="quiet_looks=0 must be an integer >= 1"):
        _tracker(quiet_looks=0)
    with pytest.raises(ValueError, match="escalation_ratio=1 must be > 1"):
        _tracker(escalation_ratio=1)
