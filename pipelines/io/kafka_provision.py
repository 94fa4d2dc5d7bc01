"""Create the declared topics and apply the grants with one admin client, for ``infra/kafka.sh``.

A fresh broker needs some forty admin operations: a topic each, the raw
topics' retention, a grant per principal and operation set. As Kafka's
command-line tools, each is a JVM of its own, about a minute of CPU in all
on two cores; here they are a few requests of one client, as the super
user. ``infra/kafka.sh`` still decides what to do (which topics are
missing, which grants the principals' roles call for, in the
``kafka-acls`` syntax it prints with ``infra/kafka.sh acls``); this module
only carries it out::

    infra/kafka.sh topics | python -m pipelines.io.kafka_provision topics
    infra/kafka.sh acls | python -m pipelines.io.kafka_provision grants RAW_TOPIC...
"""

from __future__ import annotations

import sys

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourcePatternType,
    ResourceType,
)

from pipelines.errors import KafkaUnavailable, UsageError
from pipelines.io.kafka import admin_client, new_topics, topic_config
from pipelines.settings import Settings, load_settings

__all__ = ["acl_bindings", "create_topics", "grant", "main"]

_RESOURCES = {
    "--topic": ResourceType.TOPIC,
    "--group": ResourceType.GROUP,
    "--transactional-id": ResourceType.TRANSACTIONAL_ID,
}
_PATTERNS = {"literal": ResourcePatternType.LITERAL, "prefixed": ResourcePatternType.PREFIXED}
#: The operations ``kafka-acls --operation`` names, as the admin API spells them.
_OPERATIONS = {
    "Read": AclOperation.READ,
    "Write": AclOperation.WRITE,
    "Describe": AclOperation.DESCRIBE,
    "IdempotentWrite": AclOperation.IDEMPOTENT_WRITE,
}


def acl_bindings(line: str) -> list[AclBinding]:
    """The bindings one ``kafka-acls --add`` argument line grants (every resource × operation).

    Examples
    --------
    >>> bindings = acl_bindings(
    ...     "--allow-principal User:ingest --operation Write --operation Describe "
    ...     "--topic zz.raw.grid --topic zz.raw.video"
    ... )
    >>> sorted((b.name, b.operation.name, b.principal) for b in bindings)[:2]
    [('zz.raw.grid', 'DESCRIBE', 'User:ingest'), ('zz.raw.grid', 'WRITE', 'User:ingest')]
    >>> len(bindings)
    4
    >>> [b.restype.name for b in acl_bindings("--allow-principal User:p --operation IdempotentWrite --cluster")]
    ['BROKER']
    >>> acl_bindings("--allow-principal User:p --operation Alter --topic t")
    Traceback (most recent call last):
    ...
    pipelines.errors.UsageError: ACL line '--allow-principal User:p --operation Alter --topic t': operation 'Alter' is not one of Read, Write, Describe, IdempotentWrite
    """
    words = line.split()
    principal, operations, resources, pattern = None, [], [], "literal"
    i = 0

    def value() -> str:
        if i + 1 >= len(words):
            raise UsageError(f"ACL line {line!r}: {words[i]} needs a value")
        return words[i + 1]

    while i < len(words):
        word = words[i]
        if word == "--allow-principal":
            principal, i = value(), i + 2
        elif word == "--operation":
            name = value()
            if name not in _OPERATIONS:
                raise UsageError(
                    f"ACL line {line!r}: operation {name!r} is not one of {', '.join(_OPERATIONS)}"
                )
            operations.append(_OPERATIONS[name])
            i += 2
        elif word in _RESOURCES:
            resources.append((_RESOURCES[word], value()))
            i += 2
        elif word == "--cluster":
            resources.append((ResourceType.BROKER, "kafka-cluster"))
            i += 1
        elif word == "--resource-pattern-type":
            pattern = value()
            if pattern not in _PATTERNS:
                raise UsageError(
                    f"ACL line {line!r}: pattern type {pattern!r} is not one of {', '.join(_PATTERNS)}"
                )
            i += 2
        else:
            raise UsageError(
                f"ACL line {line!r}: {word!r} is not an option this provisioning knows"
            )
    if principal is None or not operations or not resources:
        raise UsageError(f"ACL line {line!r} needs a principal, an operation and a resource")
    return [
        AclBinding(
            restype,
            name,
            ResourcePatternType.LITERAL if restype == ResourceType.BROKER else _PATTERNS[pattern],
            principal,
            "*",
            operation,
            AclPermissionType.ALLOW,
        )
        for restype, name in resources
        for operation in operations
    ]


def _settle(futures: dict, what: str, tolerated: tuple = ()) -> None:
    failed = []
    for key, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].code() not in tolerated:
                failed.append(f"{key}: {exc.args[0].str()}")
    if failed:
        raise KafkaUnavailable(f"could not {what}: {'; '.join(failed)}")


def create_topics(settings: Settings, topics: list[str], timeout: float = 60.0) -> list[str]:
    """Create those of ``topics`` that do not exist (raw ones with their retention); the created."""
    admin = admin_client(settings)
    existing = set(admin.list_topics(timeout=timeout).topics)
    missing = [t for t in topics if t not in existing]
    if missing:
        futures = admin.create_topics(new_topics(settings, missing), operation_timeout=timeout)
        _settle(futures, "create Kafka topics", (KafkaError.TOPIC_ALREADY_EXISTS,))
    return missing


def grant(
    settings: Settings, acl_lines: list[str], raw_topics: list[str], timeout: float = 60.0
) -> int:
    """Set the raw topics' retention and add the ACLs of ``acl_lines``; the bindings added."""
    admin = admin_client(settings)
    if raw_topics:
        resources = [
            ConfigResource(
                ResourceType.TOPIC,
                t,
                incremental_configs=[
                    ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                    for k, v in topic_config(settings, t).items()
                ],
            )
            for t in raw_topics
        ]
        _settle(admin.incremental_alter_configs(resources), "set the raw topics' retention")
    # Two roles may grant the same binding (reading and describing a group);
    # the admin API refuses duplicates in one request.
    unique = {}
    for line in acl_lines:
        for b in acl_bindings(line) if line.strip() else ():
            unique[(b.restype, b.name, b.resource_pattern_type, b.principal, b.operation)] = b
    bindings = list(unique.values())
    if bindings:
        _settle(admin.create_acls(bindings, request_timeout=timeout), "add Kafka ACLs")
    return len(bindings)


def main(argv: list[str]) -> int:
    """``topics`` (names on stdin) or ``grants RAW_TOPIC...`` (ACL lines on stdin)."""
    settings = load_settings()
    lines = [line.strip() for line in sys.stdin if line.strip()]
    try:
        if argv[:1] == ["topics"]:
            for topic in create_topics(settings, lines):
                print(f"created topic {topic}")
        elif argv[:1] == ["grants"]:
            print(f"added {grant(settings, lines, argv[1:])} ACL bindings")
        else:
            raise UsageError(f"usage: kafka_provision topics|grants [RAW_TOPIC...] (got {argv!r})")
    except (KafkaUnavailable, UsageError) as exc:
        print(f"zongzhi: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
