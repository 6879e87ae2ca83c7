"""SASL/SCRAM over TLS reaches every client: confluent-kafka configs and faust's aiokafka."""

from __future__ import annotations

import faust
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from complaints_kit.kafka import consumer_config, producer_config
from complaints_kit.settings import KafkaSettings
from complaints_kit.streams import faust_credentials

SCRAM_TLS = {
    "KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9093",
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "escalation",
    "KAFKA_SASL_PASSWORD": "s3cret-from-a-vault",
}


def test_scram_over_tls_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SCRAM_TLS.items():
        monkeypatch.setenv(name, value)
    settings = KafkaSettings()
    assert "s3cret" not in repr(settings)  # a secret is never printed with the settings
    for config in (producer_config(settings), consumer_config(settings, "g")):
        assert config["security.protocol"] == "SASL_SSL"
        assert config["sasl.mechanism"] == "SCRAM-SHA-512"
        assert (config["sasl.username"], config["sasl.password"]) == (
            "escalation",
            "s3cret-from-a-vault",
        )
    aiokafka = credentials_to_aiokafka_auth(faust_credentials(settings))
    assert aiokafka["security_protocol"] == "SASL_SSL"
    assert aiokafka["sasl_mechanism"] == "SCRAM-SHA-512"
    assert aiokafka["sasl_plain_username"] == "escalation"
    assert aiokafka["sasl_plain_password"] == "s3cret-from-a-vault"
    assert aiokafka["ssl_context"] is not None


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [("PLAINTEXT", None), ("SSL", faust.SSLCredentials), ("SASL_PLAINTEXT", faust.SASLCredentials)],
)
def test_faust_credentials_follow_the_protocol(protocol: str, expected: type | None) -> None:
    settings = KafkaSettings(
        security_protocol=protocol,  # type: ignore[arg-type]
        sasl_mechanism="SCRAM-SHA-256" if protocol.startswith("SASL") else None,
        sasl_username="u",
    )
    credentials = faust_credentials(settings)
    assert (credentials is None) if expected is None else isinstance(credentials, expected)
