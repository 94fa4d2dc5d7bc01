"""How every Kafka client of the platform authenticates: SASL/SCRAM over TLS, per principal.

The broker (``infra/kafka.sh``) accepts clients only on a SASL_SSL listener,
with a certificate signed by a local CA, and authorizes each principal by
the ACLs its roles in ``kafka.security.principals`` call for. A client names
the principal it acts as; this module turns that name into the client's
configuration:

- :func:`client_config` for confluent-kafka (librdkafka) producers,
  consumers and admin clients;
- :func:`flink_connector_options` for the WITH clause of a Flink SQL Kafka
  table (the Java client, shaded inside the connector jar).

Passwords are read from ``<secrets_dir>/<principal>.password`` under the
state folder, which ``infra/kafka.sh start`` writes, or from the environment
variable ``ZONGZHI_KAFKA_PASSWORD_<PRINCIPAL>`` when it is set.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.errors import SettingsError
from pipelines.settings import Settings

__all__ = [
    "ADMIN",
    "INGEST",
    "NORMALIZER",
    "PLATFORM",
    "principals",
    "password",
    "ca_location",
    "client_config",
    "java_client_properties",
    "flink_connector_options",
]

#: The super user: topic, user and ACL management, and the tests.
ADMIN = "admin"
#: Writes the raw topics: the channel gateways and the simulator.
INGEST = "ingest"
#: The normalization job, the only reader of the raw topics.
NORMALIZER = "normalizer"
#: Everything else: the hotspot job, the lake loader, store-alerts, replay, benches.
PLATFORM = "platform"

#: The Java client's SCRAM login module.
SCRAM_LOGIN_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
#: Where Flink's SQL Kafka connector jar relocates the Kafka client's classes.
FLINK_SHADED_PREFIX = "org.apache.flink.kafka.shaded."


def _security(settings: Settings) -> dict:
    kafka = settings.section("kafka")
    if "security" not in kafka:
        raise SettingsError("kafka.security is not declared in the config; see infra/config")
    return kafka["security"]


def principals(settings: Settings) -> list[str]:
    """The super user, then every principal declared under ``kafka.security.principals``."""
    security = _security(settings)
    return [security["super_user"], *security["principals"]]


def _checked(settings: Settings, principal: str) -> str:
    known = principals(settings)
    if principal not in known:
        raise SettingsError(
            f"Kafka principal {principal!r} is not declared; declared: {', '.join(known)}"
        )
    return principal


def _secrets_dir(settings: Settings) -> Path:
    return settings.var / _security(settings)["secrets_dir"]


def password(settings: Settings, principal: str) -> str:
    """The principal's password: ``ZONGZHI_KAFKA_PASSWORD_<PRINCIPAL>``, else its secrets file."""
    _checked(settings, principal)
    env = os.environ.get(f"ZONGZHI_KAFKA_PASSWORD_{principal.upper()}")
    if env:
        return env
    path = _secrets_dir(settings) / f"{principal}.password"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        raise SettingsError(
            f"Kafka password file {path} of principal {principal!r} does not exist; run "
            f"`zongzhi infra up` or set ZONGZHI_KAFKA_PASSWORD_{principal.upper()}"
        ) from None


def ca_location(settings: Settings) -> Path:
    """The PEM file of the CA that signed the broker's certificate."""
    return _secrets_dir(settings) / "ca.pem"


def client_config(settings: Settings, principal: str) -> dict:
    """The confluent-kafka configuration that connects as ``principal``.

    Examples
    --------
    >>> from pipelines.settings import load_settings
    >>> config = client_config(load_settings(), "platform")  # doctest: +SKIP
    >>> config["sasl.username"], config["security.protocol"]  # doctest: +SKIP
    ('platform', 'SASL_SSL')
    """
    security = _security(settings)
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "security.protocol": security["protocol"],
        "sasl.mechanisms": security["mechanism"],
        "sasl.username": _checked(settings, principal),
        "sasl.password": password(settings, principal),
        "ssl.ca.location": str(ca_location(settings)),
    }


def java_client_properties(
    settings: Settings, principal: str, *, class_prefix: str = ""
) -> dict[str, str]:
    """The Java client's properties that connect as ``principal``.

    ``class_prefix`` is where a shaded client's classes live (Flink's SQL
    connector: :data:`FLINK_SHADED_PREFIX`).
    """
    security = _security(settings)
    secret = password(settings, principal).replace("\\", "\\\\").replace('"', '\\"')
    jaas = (
        f'{class_prefix}{SCRAM_LOGIN_MODULE} required username="{principal}" password="{secret}";'
    )
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "security.protocol": security["protocol"],
        "sasl.mechanism": security["mechanism"],
        "sasl.jaas.config": jaas,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(ca_location(settings)),
    }


def flink_connector_options(settings: Settings, principal: str) -> list[str]:
    """``'properties.*'`` options of a Flink SQL Kafka table that connect as ``principal``.

    Each is one ``'key' = 'value'`` item of a WITH clause, quotes escaped.
    """
    properties = java_client_properties(settings, principal, class_prefix=FLINK_SHADED_PREFIX)
    return [
        f"'properties.{key}' = '{value.replace(chr(39), chr(39) * 2)}'"
        for key, value in properties.items()
    ]
