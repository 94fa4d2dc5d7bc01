"""``zongzhi eval fusion`` on a small stream: planted incidents reach the linker with their truth."""

import json

from pipelines.cli import main


def test_eval_fusion_reports_pairwise_scores_against_the_planted_truth(capsys, monkeypatch):
    # A key of the test's own: the command must not need the key `zongzhi infra up` makes.
    monkeypatch.setenv("ZONGZHI_PSEUDONYM_KEY", bytes(range(7, 39)).hex())
    assert main(["eval", "fusion", "--days", "0.25", "--incidents-per-day", "48"]) == 0
    report = json.loads(capsys.readouterr().out)
    test = report["test"]
    assert test["planted_incidents"] > 5
    # Every planted incident has a grid report and most another channel's.
    assert test["reports_of_planted_incidents"] > test["planted_incidents"]
    # The bounds hold every true pair (the simulator's errors lie within them).
    assert report["recall_within_bounds"] == 1.0
    assert report["pairwise"]["true_pairs"] == test["candidates_one_incident"]
    assert set(report["goals"]) == {"precision >= 0.95", "recall >= 0.95"}
    assert report["examples"] == [] or "evidence" in report["examples"][0]
    # What the hotspot job does with the stream: the declared linker, a slice at a time.
    rule = report["stream_rule"]
    assert rule["slice_minutes"] == 5 and rule["min_confidence"] == 0.5
    assert rule["pairwise"]["true_pairs"] == report["pairwise"]["true_pairs"]
    # Each join is a pair of different channels in one incident, so no more joins than pairs.
    assert 0 < rule["reports_joined"] <= rule["pairwise"]["predicted_pairs"]
    assert report["detection"].startswith("not run: add --detection")
