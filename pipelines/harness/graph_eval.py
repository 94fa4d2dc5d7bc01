"""``zongzhi eval graph``: the nightly graph job against planted ground truth.

Everything runs for real: the simulator (with planted rings, their convoys
past LPR sites, and damaged identities: homophone names, wrong phone
digits, misread plates) produces to Kafka, the Flink normalization job and
the lake loader fill a lake of the eval's own (``var/eval/graph_lake``),
and the Spark graph job resolves entities and mines the graph. The truth of
every person and vehicle entry comes from the simulator itself, replayed
with the same seed (``SimulatedRecord.truth``); it never passed through
Kafka. The report:

* **entity resolution**: pairwise precision, recall and F1 over the
  mentions (persons and vehicles; a mention the job could not resolve is a
  cluster of its own; unknown suspects, who are nobody in particular, are
  left out);
* **ring recovery**: the adjusted Rand index of the graph's communities
  against the planted rings, over the rings' persons and vehicles;
* **companion vehicles**: precision and recall of the flagged pairs
  against the planted convoys (every pair of one ring's vehicles).

The eval resets the platform's Kafka topics and consumer groups (as the
demo does) and rewrites the graph serving tables.
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import datetime, timedelta

import pandas as pd
import pyarrow.parquet as pq

from features.local_time import DISTRICT_TZ
from features.pseudonymize import pseudonymize
from features.record_pseudonyms import event_token
from jobs.graph.extract import profile_key
from jobs.graph.snapshot import snapshot_path
from models.cluster_agreement import adjusted_rand, pairwise_scores
from pipelines.io.platform_state import pseudonym_key
from pipelines.settings import Settings

__all__ = ["mention_labels", "ring_recovery", "companion_recovery", "run_eval"]

log = logging.getLogger(__name__)

GOALS = {"er_f1": 0.99, "ring_ari": 0.9, "companion_precision": 0.95, "companion_recall": 0.95}


def mention_labels(
    lake_events: pd.DataFrame, truth: dict, entities: pd.DataFrame, key: bytes
) -> pd.DataFrame:
    """One row per person or vehicle mention: its true and its resolved identity.

    ``lake_events`` has ``event_id``, ``village_code``, ``persons`` and ``vehicles`` as the lake
    stores them; ``truth`` maps the lake's event ids (tokens) to ``SimulatedRecord.truth``;
    ``entities`` is the night's entity map. The true identity is the
    pseudonym of the person's ID number or of the true plate, so that it
    compares with the resolved one, which is also a pseudonym.
    """
    person_of = entities[entities["kind"] == "person"].set_index("key")["entity_id"].to_dict()
    vehicle_of = entities[entities["kind"] == "vehicle"].set_index("key")["entity_id"].to_dict()
    rows = []
    for event_id, village, persons, vehicles in zip(
        lake_events["event_id"],
        lake_events["village_code"],
        lake_events["persons"],
        lake_events["vehicles"],
    ):
        known = truth.get(event_id)
        if known is None:
            continue
        for i, person in enumerate(persons if persons is not None else ()):
            true_id = known["persons"][i]
            if true_id is None:
                continue
            resolved = person_of.get(profile_key(person, village))
            rows.append(
                (
                    "person",
                    f"{event_id}#p{i}",
                    pseudonymize(true_id, "id_number", key),
                    resolved if resolved is not None else f"unresolved:{event_id}#p{i}",
                )
            )
        for i, vehicle in enumerate(vehicles if vehicles is not None else ()):
            plate = known["vehicles"][i]
            resolved = vehicle_of.get(vehicle["plate_hash"])
            rows.append(
                (
                    "vehicle",
                    f"{event_id}#v{i}",
                    pseudonymize(plate, "plate", key),
                    resolved if resolved is not None else f"unresolved:{event_id}#v{i}",
                )
            )
    return pd.DataFrame(rows, columns=["kind", "mention", "truth", "resolved"])


def ring_recovery(rings, metrics: pd.DataFrame, key: bytes) -> dict:
    """ARI of the communities against the planted rings, over the rings' members."""
    community = metrics.set_index("node_id")["community"].to_dict()
    truth, predicted = [], []
    for ring in rings:
        members = [f"person:{pseudonymize(p, 'id_number', key)}" for p in ring.person_ids]
        members += [f"vehicle:{pseudonymize(p, 'plate', key)}" for p in ring.plates]
        for node in members:
            truth.append(ring.ring_id)
            # A member missing from the graph is a community of its own.
            predicted.append(community.get(node, f"missing:{node}"))
    return {
        "rings": len(rings),
        "members": len(truth),
        "members_in_graph": sum(not str(p).startswith("missing:") for p in predicted),
        "ari": adjusted_rand(truth, predicted) if truth else None,
    }


def companion_recovery(rings, companions: pd.DataFrame, key: bytes) -> dict:
    """Precision and recall of the flagged companion pairs against the planted convoys."""
    planted = set()
    for ring in rings:
        tokens = [f"vehicle:{pseudonymize(p, 'plate', key)}" for p in ring.plates]
        planted |= {frozenset((a, b)) for i, a in enumerate(tokens) for b in tokens[i + 1 :]}
    flagged = {
        frozenset(pair)
        for pair in companions.loc[companions["companion"], ["vehicle_a", "vehicle_b"]].values
    }
    hits = len(planted & flagged)
    return {
        "planted_pairs": len(planted),
        "flagged_pairs": len(flagged),
        "correct": hits,
        "precision": round(hits / len(flagged), 4) if flagged else None,
        "recall": round(hits / len(planted), 4) if planted else None,
    }


def run_eval(
    settings: Settings,
    *,
    days: float,
    rate: float,
    rings: int,
    seed: int = 21,
    start: datetime | None = None,
) -> dict:
    """Run the whole evaluation; return the report."""
    from pipelines.harness.simulation_run import build_simulator, simulate_to_kafka
    from pipelines.harness.steps import run_step
    from pipelines.harness.streams import fresh_streams

    lake = settings.var / "eval" / "graph_lake"
    shutil.rmtree(lake, ignore_errors=True)
    os.environ["ZONGZHI_LAKE"] = str(lake)  # the child steps inherit it
    start = start or datetime(2026, 11, 2, 0, 0, tzinfo=DISTRICT_TZ)
    hours = days * 24
    try:
        log.info(
            "eval graph 1/3: %.0f h at %.0f events/h with %d rings -> Kafka -> lake",
            hours,
            rate,
            rings,
        )
        fresh_streams(settings)
        simulate_to_kafka(
            settings,
            hours=hours,
            start=start,
            rate=rate,
            seed=seed,
            rings=rings,
            malformed_fraction=0.0,
        )
        run_step(settings, "normalize")
        run_step(settings, "lake")
        log.info("eval graph 2/3: the nightly graph job")
        night = run_step(settings, "graph", timeout=3600)
    finally:
        os.environ.pop("ZONGZHI_LAKE", None)
    log.info("eval graph 3/3: scoring against the simulator's truth")
    simulator = build_simulator(
        settings, start=start, seed=seed, rate=rate, rings=rings, malformed_fraction=0.0
    )
    key = pseudonym_key(settings)
    # The lake holds the event ids' tokens (features/record_pseudonyms.py).
    truth = {
        event_token(r.key, key): r.truth for r in simulator.records(start, timedelta(hours=hours))
    }
    planted = simulator.ground_truth().rings
    snapshot = snapshot_path(settings, night["as_of"], lake=lake)
    events = pq.read_table(
        lake / settings.section("lake")["normalized_table"],
        columns=["event_id", "village_code", "persons", "vehicles"],
    ).to_pandas()
    labels = mention_labels(events, truth, pd.read_parquet(snapshot / "entities.parquet"), key)
    er = {
        kind: pairwise_scores(part["truth"], part["resolved"])
        for kind, part in labels.groupby("kind")
    }
    er["all"] = pairwise_scores(
        labels["kind"] + ":" + labels["truth"], labels["kind"] + ":" + labels["resolved"]
    )
    noise = settings.simulator.get("identity_noise") or {}
    rings_report = ring_recovery(planted, pd.read_parquet(snapshot / "metrics.parquet"), key)
    companions = companion_recovery(planted, pd.read_parquet(snapshot / "companions.parquet"), key)
    report = {
        "entity_resolution": er,
        "ring_recovery": rings_report,
        "companion_vehicles": companions,
        "goals": {
            "er_f1 >= 0.99": er["all"]["f1"] >= GOALS["er_f1"],
            "ring_ari >= 0.9": (rings_report["ari"] or 0) >= GOALS["ring_ari"],
            "companion_precision >= 0.95": (companions["precision"] or 0)
            >= GOALS["companion_precision"],
            "companion_recall >= 0.95": (companions["recall"] or 0) >= GOALS["companion_recall"],
        },
        "setup": {
            "days": days,
            "events_per_hour": rate,
            "rings": rings,
            "seed": seed,
            "start": start.isoformat(),
            "identity_noise": noise,
            "mentions": {k: int(v) for k, v in labels["kind"].value_counts().items()},
        },
        "night": night,
    }
    return report
