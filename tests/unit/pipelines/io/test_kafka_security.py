"""Every Kafka client's security settings come from the config and a principal's name."""

import pytest

from pipelines.errors import SettingsError
from pipelines.io.kafka_security import (
    client_config,
    flink_connector_options,
    java_client_properties,
    password,
    principals,
)
from pipelines.settings import load_settings


@pytest.fixture
def settings(monkeypatch, tmp_path):
    """The project's config, with the state folder in ``tmp_path`` and one password file."""
    monkeypatch.setenv("ZONGZHI_VAR", str(tmp_path))
    monkeypatch.setenv("ZONGZHI_KAFKA_BOOTSTRAP", "127.0.0.1:29999")
    for principal in ("admin", "ingest", "normalizer", "platform"):
        monkeypatch.delenv(f"ZONGZHI_KAFKA_PASSWORD_{principal.upper()}", raising=False)
    secrets = tmp_path / "secrets" / "kafka"
    secrets.mkdir(parents=True)
    (secrets / "normalizer.password").write_text("s3cret-from-file\n")
    return load_settings()


def test_the_declared_principals_are_the_super_user_and_the_three_roles(settings):
    assert principals(settings) == ["admin", "ingest", "normalizer", "platform"]


def test_the_confluent_config_authenticates_with_scram_over_tls(settings, tmp_path):
    assert client_config(settings, "normalizer") == {
        "bootstrap.servers": "127.0.0.1:29999",
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "normalizer",
        "sasl.password": "s3cret-from-file",
        "ssl.ca.location": str(tmp_path / "secrets" / "kafka" / "ca.pem"),
    }


def test_an_environment_variable_overrides_the_password_file(settings, monkeypatch):
    monkeypatch.setenv("ZONGZHI_KAFKA_PASSWORD_NORMALIZER", "from-env")
    assert password(settings, "normalizer") == "from-env"


def test_a_missing_password_file_is_named(settings, tmp_path):
    path = tmp_path / "secrets" / "kafka" / "platform.password"
    with pytest.raises(SettingsError, match=f"^Kafka password file {path} of principal 'platform'"):
        client_config(settings, "platform")


def test_an_undeclared_principal_is_refused_naming_the_declared(settings):
    with pytest.raises(
        SettingsError,
        match=r"^Kafka principal 'root' is not declared; declared: admin, ingest, normalizer, platform$",
    ):
        client_config(settings, "root")


def test_the_java_client_logs_in_with_the_scram_module_and_trusts_the_pem_ca(settings, tmp_path):
    props = java_client_properties(settings, "normalizer")
    assert props["sasl.jaas.config"] == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="normalizer" password="s3cret-from-file";'
    )
    assert props["security.protocol"] == "SASL_SSL"
    assert props["sasl.mechanism"] == "SCRAM-SHA-512"
    assert props["ssl.truststore.type"] == "PEM"
    assert props["ssl.truststore.location"] == str(tmp_path / "secrets" / "kafka" / "ca.pem")


def test_flink_options_use_the_connectors_shaded_module_and_escape_quotes(settings, monkeypatch):
    monkeypatch.setenv("ZONGZHI_KAFKA_PASSWORD_NORMALIZER", "it's\"x")
    options = flink_connector_options(settings, "normalizer")
    assert options[0] == "'properties.bootstrap.servers' = '127.0.0.1:29999'"
    assert options[3] == (
        "'properties.sasl.jaas.config' = 'org.apache.flink.kafka.shaded.org.apache.kafka."
        'common.security.scram.ScramLoginModule required username="normalizer" '
        "password=\"it''s\\\"x\";'"
    )
    assert [o.split(" = ")[0] for o in options] == [
        "'properties.bootstrap.servers'",
        "'properties.security.protocol'",
        "'properties.sasl.mechanism'",
        "'properties.sasl.jaas.config'",
        "'properties.ssl.truststore.type'",
        "'properties.ssl.truststore.location'",
    ]
