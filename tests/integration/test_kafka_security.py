"""Kafka refuses anonymous and wrong clients, enforces the ACLs, bounds the raw
topics' clear data in time, and keeps its files from other users."""

import os
import shutil
import stat
import subprocess
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource

from pipelines.io.kafka import reset_topics
from pipelines.io.kafka_security import ADMIN, INGEST, NORMALIZER, PLATFORM, client_config
from pipelines.settings import load_settings

pytestmark = pytest.mark.integration

#: Connection attempts give up this soon (a refused client never gets further).
QUIET = {"log_level": 0, "socket.timeout.ms": 5000}


def _list_topics(config: dict):
    return AdminClient({**config, **QUIET}).list_topics(timeout=8)


def test_a_client_without_credentials_is_refused(settings):
    with pytest.raises(KafkaException):
        _list_topics({"bootstrap.servers": settings.kafka_bootstrap})


def test_a_client_with_a_wrong_password_is_refused(settings):
    errors = []
    config = {
        **client_config(settings, PLATFORM),
        "sasl.password": "not-the-password",
        "error_cb": errors.append,
    }
    admin = AdminClient({**config, **QUIET})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=8)
    admin.poll(1)  # serves the error callbacks
    refusals = [e.str() for e in errors if e.code() == KafkaError._AUTHENTICATION]
    assert refusals and "invalid credentials" in refusals[0], [e.str() for e in errors]


def test_each_principal_is_admitted_and_sees_only_the_topics_it_is_granted(settings):
    # The raw topics, the bench's included: the only topics of clear personal data.
    raw = set(settings.clear_data_topics)
    assert set(settings.raw_topics.values()) < raw
    outputs = {"normalized", "dead_letter", "bench_normalized", "bench_dead_letter"}
    seen = {
        principal: set(_list_topics(client_config(settings, principal)).topics)
        for principal in (ADMIN, INGEST, NORMALIZER, PLATFORM)
    }
    assert seen[INGEST] == raw
    assert seen[NORMALIZER] == raw | {settings.topic(name) for name in outputs}
    assert set(settings.declared_topics) <= seen[PLATFORM]
    assert set(settings.declared_topics) <= seen[ADMIN]


def _read_first(settings, principal: str, topic: str):
    """The first record of ``topic``'s partition 0, as ``principal``: its value or its error code."""
    consumer = Consumer(
        {**client_config(settings, principal), **QUIET, "group.id": "zongzhi-test-acl"}
    )
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        for _ in range(20):
            message = consumer.poll(1.0)
            if message is None:
                continue
            return message.error().code() if message.error() else message.value()
        return None
    finally:
        consumer.close()


def _produce(settings, principal: str, topic: str, value: bytes) -> KafkaError | None:
    """Produce one record to partition 0 as ``principal``; the delivery error, if any."""
    outcome = []
    producer = Producer(
        {**client_config(settings, principal), **QUIET, "message.timeout.ms": 10000}
    )
    producer.produce(topic, value, partition=0, on_delivery=lambda err, msg: outcome.append(err))
    producer.flush(15)
    assert len(outcome) == 1
    return outcome[0]


def test_only_the_normalizer_reads_a_raw_topic(settings):
    raw = settings.topic("raw_grid")
    reset_topics(settings, [raw])
    try:
        value = f"acl-probe-{uuid.uuid4().hex}".encode()
        assert _produce(settings, INGEST, raw, value) is None
        assert _read_first(settings, NORMALIZER, raw) == value
        assert _read_first(settings, PLATFORM, raw) == KafkaError.TOPIC_AUTHORIZATION_FAILED
        # Ingest has no consumer group either: whichever refusal comes first.
        assert _read_first(settings, INGEST, raw) in (
            KafkaError.TOPIC_AUTHORIZATION_FAILED,
            KafkaError.GROUP_AUTHORIZATION_FAILED,
        )
        refused = _produce(settings, PLATFORM, raw, b"not allowed")
        assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    finally:
        reset_topics(settings, [raw])


def _topic_configs(settings, topic: str) -> dict[str, str]:
    admin = AdminClient({**client_config(settings, ADMIN), **QUIET})
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([resource])[resource].result(timeout=10)
    return {name: entry.value for name, entry in entries.items()}


def test_raw_topics_keep_clear_data_for_the_configured_time_by_append_time(settings):
    hours = int(settings.section("kafka")["raw_retention_hours"])
    for topic in settings.raw_topics.values():
        config = _topic_configs(settings, topic)
        assert config["retention.ms"] == str(hours * 3_600_000), topic
        assert config["message.timestamp.type"] == "LogAppendTime", topic
        assert int(config["segment.ms"]) <= hours * 3_600_000, topic
    # The other topics keep their producers' timestamps and no time limit.
    config = _topic_configs(settings, settings.topic("alerts"))
    assert (config["retention.ms"], config["message.timestamp.type"]) == ("-1", "CreateTime")


def _private_paths(root):
    for folder, _dirs, files in os.walk(root):
        yield folder
        for name in files:
            yield os.path.join(folder, name)


def test_kafka_data_and_secrets_are_readable_by_their_owner_only(settings):
    kafka_data, secrets = settings.var / "kafka", settings.var / "secrets" / "kafka"
    assert stat.S_IMODE(settings.var.stat().st_mode) == 0o700
    paths = [*_private_paths(kafka_data), *_private_paths(secrets)]
    assert any(p.endswith(".log") for p in paths) and any(p.endswith("ca.key") for p in paths)
    opened = {p: oct(stat.S_IMODE(os.stat(p).st_mode)) for p in paths if os.stat(p).st_mode & 0o077}
    assert opened == {}


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runuser") is None, reason="needs root and runuser"
)
def test_another_user_cannot_read_a_raw_segment(settings):
    segment = next(
        p
        for p in _private_paths(settings.var / "kafka" / "data" / f"{settings.topic('raw_grid')}-0")
        if p.endswith(".log")
    )
    as_root = subprocess.run(["cat", segment], capture_output=True)
    as_nobody = subprocess.run(
        ["runuser", "-u", "nobody", "--", "cat", segment], capture_output=True
    )
    assert as_root.returncode == 0
    assert as_nobody.returncode != 0 and b"Permission denied" in as_nobody.stderr


def test_storage_of_the_plaintext_broker_is_refused_with_the_way_out(tmp_path):
    """A checkout whose var/kafka was formatted by the old plaintext broker."""
    settings = load_settings()
    source = os.environ.get("ZONGZHI_CONFIG") or settings.root / "infra" / "config" / "zongzhi.yaml"
    config = tmp_path / "zongzhi.yaml"
    # Nothing listens on the discard port: the script gets as far as the storage check.
    config.write_text(Path(source).read_text().replace(settings.kafka_bootstrap, "127.0.0.1:9"))
    data = tmp_path / "var" / "kafka" / "data"
    data.mkdir(parents=True)
    (data / "meta.properties").write_text("version=1\ncluster.id=old\nnode.id=1\n")
    env = {**os.environ, "ZONGZHI_CONFIG": str(config), "ZONGZHI_VAR": str(tmp_path / "var")}
    env.pop("ZONGZHI_KAFKA_BOOTSTRAP", None)
    result = subprocess.run(
        ["bash", str(settings.root / "infra" / "kafka.sh"), "start"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"zongzhi: Kafka storage in {data} was made by a plaintext broker (no SCRAM users, "
        "no ACLs): run `infra/kafka.sh reset` to delete it (its topics are lost; produce "
        "their records again afterwards)"
    )
    assert (data / "meta.properties").exists()
