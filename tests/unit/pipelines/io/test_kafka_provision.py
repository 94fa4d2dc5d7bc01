"""The grants infra/kafka.sh asks for, as the admin client's ACL bindings."""

import pytest
from confluent_kafka.admin import AclOperation, ResourcePatternType, ResourceType

from pipelines.errors import UsageError
from pipelines.io.kafka_provision import acl_bindings
from tests.unit.infra.test_kafka_acls import _grants


def test_every_grant_of_the_config_becomes_bindings_of_its_principal(tmp_path):
    grants = _grants(tmp_path)
    assert grants
    for line in grants:
        bindings = acl_bindings(line)
        principal = line.split()[1]
        operations = line.count("--operation")
        resources = sum(
            line.count(f"--{r}") for r in ("topic", "group", "transactional-id", "cluster")
        )
        assert len(bindings) == operations * resources, line
        assert {b.principal for b in bindings} == {principal}
        assert {b.host for b in bindings} == {"*"}


def test_prefixed_groups_and_transactional_ids_keep_their_pattern():
    (group,) = acl_bindings(
        "--allow-principal User:platform --operation Read --group zz --resource-pattern-type prefixed"
    )
    assert (group.restype, group.name, group.resource_pattern_type, group.operation) == (
        ResourceType.GROUP,
        "zz",
        ResourcePatternType.PREFIXED,
        AclOperation.READ,
    )
    (cluster,) = acl_bindings("--allow-principal User:ingest --operation IdempotentWrite --cluster")
    assert (cluster.restype, cluster.name, cluster.resource_pattern_type) == (
        ResourceType.BROKER,
        "kafka-cluster",
        ResourcePatternType.LITERAL,
    )


@pytest.mark.parametrize(
    "line, named",
    [
        (
            "--allow-principal User:p --operation Read --topic t --deny-host 1.2.3.4",
            "'--deny-host'",
        ),
        ("--allow-principal User:p --operation Read --topic", "--topic needs a value"),
        ("--operation Read --topic t", "needs a principal"),
        (
            "--allow-principal User:p --operation Read --group g --resource-pattern-type match",
            "'match'",
        ),
    ],
)
def test_a_line_it_cannot_carry_out_is_refused_by_name(line, named):
    with pytest.raises(UsageError, match=named):
        acl_bindings(line)
