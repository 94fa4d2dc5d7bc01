"""Writing Kafka: one producer helper with one delivery policy.

Configuration is a dict, serialization is the caller's pure function; a
delivery callback counts failures, a full queue is served and the record
produced again, and the final ``flush()`` result is checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from confluent_kafka import Producer

from pipelines.errors import KafkaUnavailable
from pipelines.io.kafka_security import PLATFORM, client_config
from pipelines.settings import Settings

__all__ = ["QUEUE_FULL_WAIT_S", "ABANDON_FLUSH_S", "DeliveryReport", "RecordProducer"]

#: How long a full local queue may drain before the same record is produced again.
QUEUE_FULL_WAIT_S = 0.5


#: The last flush when producing stops on an error (that error is the one reported).
ABANDON_FLUSH_S = 5.0


class DeliveryReport:
    """The delivery accounting of one producer, by topic; it is the ``on_delivery`` callback."""

    def __init__(self):
        self.sent: Counter = Counter()
        self.failed: Counter = Counter()
        self.first_error: str | None = None

    def __call__(self, err, msg) -> None:
        """The producer's ``on_delivery`` callback."""
        if err is not None:
            self.refused(msg.topic(), err.str())

    def refused(self, topic: str, reason: str) -> None:
        """Count one record of ``topic`` that failed delivery."""
        self.failed[topic] += 1
        self.first_error = self.first_error or f"{topic}: {reason}"

    def problem(self, unflushed: int, timeout: float) -> str | None:
        """What was not delivered, given the records ``flush(timeout)`` left queued."""
        total, topics = sum(self.sent.values()), ", ".join(sorted(self.sent))
        parts = []
        if self.failed:
            parts.append(
                f"{sum(self.failed.values())} of {total} records to {topics} failed delivery "
                f"(first: {self.first_error})"
            )
        if unflushed:
            parts.append(
                f"{unflushed} of {total} records to {topics} were still queued after {timeout:g} s"
            )
        return "; ".join(parts) or None


class RecordProducer:
    """A Kafka producer with the one delivery policy, used as a context manager.

    ``config`` holds the producer's own settings (linger, batch size,
    compression, acks, idempotence); the broker and the credentials of
    ``principal`` come from ``settings``. A
    full local queue is served and the same record produced again. A normal
    exit flushes for ``flush_timeout`` seconds; a record that failed
    delivery or is still queued then raises :class:`KafkaUnavailable`.
    """

    def __init__(
        self,
        settings: Settings,
        config: Mapping | None = None,
        *,
        principal: str = PLATFORM,
        flush_timeout=60.0,
    ):
        self.settings = settings
        self.principal = principal
        self.config = dict(config or {})
        self.flush_timeout = flush_timeout
        self.report = DeliveryReport()
        self.producer: Producer | None = None

    def __enter__(self) -> RecordProducer:
        self.producer = Producer({**client_config(self.settings, self.principal), **self.config})
        return self

    def send(self, topic: str, value, *, key=None, timestamp: int | None = None) -> None:
        """Produce one record (``timestamp`` in epoch ms, default: now)."""
        extra = {} if timestamp is None else {"timestamp": timestamp}
        while True:
            try:
                self.producer.produce(topic, value, key=key, on_delivery=self.report, **extra)
                break
            except BufferError:
                self.producer.poll(QUEUE_FULL_WAIT_S)
        self.report.sent[topic] += 1

    def poll(self, timeout: float = 0.0) -> None:
        """Serve delivery callbacks, waiting up to ``timeout`` seconds."""
        self.producer.poll(timeout)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.producer.flush(min(ABANDON_FLUSH_S, self.flush_timeout))
            return
        problem = self.report.problem(self.producer.flush(self.flush_timeout), self.flush_timeout)
        if problem:
            raise KafkaUnavailable(problem)
