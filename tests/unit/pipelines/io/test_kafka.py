"""The producer's one delivery policy: its accounting, and a producer with no broker."""

import pytest

from pipelines.errors import KafkaUnavailable, ServiceError
from pipelines.io.kafka import DeliveryReport, RecordProducer
from pipelines.settings import load_settings

#: Nothing listens there anyway: plaintext spares the test a CA file.
NO_TLS = {"log_level": 0, "security.protocol": "PLAINTEXT"}


@pytest.fixture
def no_broker(monkeypatch, tmp_path):
    """Settings naming a broker address nothing listens on: records stay in the local queue."""
    monkeypatch.setenv("ZONGZHI_KAFKA_BOOTSTRAP", "127.0.0.1:9")
    monkeypatch.setenv("ZONGZHI_VAR", str(tmp_path))
    monkeypatch.setenv("ZONGZHI_KAFKA_PASSWORD_PLATFORM", "unused")
    return load_settings()


def test_every_record_delivered_is_no_problem():
    report = DeliveryReport()
    report.sent.update({"raw_grid": 3, "raw_video": 2})
    report(None, None)  # a successful delivery
    assert report.problem(unflushed=0, timeout=60) is None
    assert sum(report.failed.values()) == 0


def test_failures_are_counted_and_the_first_error_kept():
    report = DeliveryReport()
    report.sent.update({"raw_grid": 6, "raw_hotline": 4})
    report.refused("raw_hotline", "Broker: Message size too large")
    report.refused("raw_grid", "Local: Message timed out")
    report.refused("raw_hotline", "Local: Message timed out")
    assert report.failed == {"raw_hotline": 2, "raw_grid": 1}
    assert report.first_error == "raw_hotline: Broker: Message size too large"
    assert report.problem(unflushed=0, timeout=60) == (
        "3 of 10 records to raw_grid, raw_hotline failed delivery "
        "(first: raw_hotline: Broker: Message size too large)"
    )


def test_records_left_in_the_queue_are_a_problem_of_their_own():
    report = DeliveryReport()
    report.sent.update({"bench": 120})
    assert report.problem(unflushed=7, timeout=2.5) == (
        "7 of 120 records to bench were still queued after 2.5 s"
    )
    report.refused("bench", "Local: Purged in queue")
    assert report.problem(unflushed=6, timeout=2.5) == (
        "1 of 120 records to bench failed delivery (first: bench: Local: Purged in queue); "
        "6 of 120 records to bench were still queued after 2.5 s"
    )


def test_undelivered_records_raise_a_service_error_naming_topic_and_count(no_broker):
    # No broker answers: flush gives up with both records still queued.
    with pytest.raises(
        KafkaUnavailable, match=r"^2 of 2 records to replay were still queued after 0.2 s$"
    ):
        with RecordProducer(no_broker, NO_TLS, flush_timeout=0.2) as producer:
            producer.send("replay", b'{"n": 1}', key=b"1", timestamp=1_000)
            producer.send("replay", b'{"n": 2}', key=b"2")
            producer.poll(0)
    assert issubclass(KafkaUnavailable, ServiceError)


def test_an_error_while_producing_is_the_one_reported(no_broker):
    with pytest.raises(ZeroDivisionError):
        with RecordProducer(no_broker, NO_TLS, flush_timeout=0.2) as producer:
            producer.send("replay", b"x")
            raise ZeroDivisionError
    assert producer.report.sent == {"replay": 1}
