"""Write simulated records to the raw channel topics.

The I/O edge of the simulator: :mod:`pipelines.harness.simulator.generate` makes the
records, this module sends each to its channel's raw topic (as the
``ingest`` principal) with the report time as the Kafka timestamp, which the
raw topics replace with the broker's append time (``kafka.raw_retention_hours``),
optionally paced so that event time runs ``speedup`` times faster than the
wall clock.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from pipelines.io.kafka import RecordProducer
from pipelines.io.kafka_security import INGEST
from pipelines.settings import Settings

__all__ = ["ProduceReport", "produce_records", "write_ground_truth"]

log = logging.getLogger(__name__)

#: Every record is acknowledged by all in-sync replicas, and written once.
PRODUCER_CONFIG = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 20,
    "compression.type": "lz4",
}


class ProduceReport(dict):
    """Counts of one run: ``produced``, ``by_channel``, ``malformed_by_kind``."""


def produce_records(
    settings: Settings,
    records: Iterable,
    *,
    speedup: float | None = None,
    progress: Callable[[int], None] | None = None,
    topics: dict[str, str] | None = None,
) -> ProduceReport:
    """Send records to Kafka; every record is acknowledged before this returns.

    Each goes to its channel's raw topic, or to ``topics[channel]`` (the bench's).
    """
    topics = topics or settings.raw_topics
    by_channel: Counter = Counter()
    malformed: Counter = Counter()
    produced = 0
    wall_start = time.monotonic()
    first_report_ms = None
    with RecordProducer(
        settings, PRODUCER_CONFIG, principal=INGEST, flush_timeout=60.0
    ) as producer:
        for record in records:
            if speedup:
                if first_report_ms is None:
                    first_report_ms = record.report_time_ms
                due = (record.report_time_ms - first_report_ms) / 1000.0 / speedup
                delay = due - (time.monotonic() - wall_start)
                if delay > 0:
                    producer.poll(0)
                    time.sleep(delay)
            producer.send(
                topics[record.source],
                record.value,
                key=record.key,
                timestamp=record.report_time_ms,
            )
            producer.poll(0)
            produced += 1
            by_channel[record.source] += 1
            if record.malformed_kind:
                malformed[record.malformed_kind] += 1
            if progress and produced % 5000 == 0:
                progress(produced)
    return ProduceReport(
        produced=produced, by_channel=dict(by_channel), malformed_by_kind=dict(malformed)
    )


def write_ground_truth(path: Path, ground_truth, report: ProduceReport) -> None:
    """Write the planted ground truth beside the stream, for later scoring."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"ground_truth": ground_truth.to_dict(), "produced": dict(report)}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
