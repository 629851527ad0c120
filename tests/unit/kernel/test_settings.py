"""Settings are validated at start-up and never print secrets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from exchange.settings import KafkaSettings


def test_bootstrap_list_is_normalised() -> None:
    settings = KafkaSettings(bootstrap_servers=" 127.0.0.1:9092, broker-2.example:9093 ")
    assert settings.bootstrap_servers == "127.0.0.1:9092,broker-2.example:9093"
    assert settings.aiokafka_config()["bootstrap_servers"] == ["127.0.0.1:9092", "broker-2.example:9093"]


def test_bad_bootstrap_is_rejected_naming_the_entry() -> None:
    with pytest.raises(ValidationError, match="not host:port: localhost"):
        KafkaSettings(bootstrap_servers="localhost")


def test_environment_variables_configure_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAIS_KAFKA_BOOTSTRAP_SERVERS", "10.1.2.3:9094")
    assert KafkaSettings().confluent_config()["bootstrap.servers"] == "10.1.2.3:9094"


def test_sasl_needs_credentials() -> None:
    with pytest.raises(ValidationError, match="needs sasl_mechanism"):
        KafkaSettings(security_protocol="SASL_SSL")


def test_password_reaches_clients_but_never_repr() -> None:
    settings = KafkaSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="adapter-la-123",
        sasl_password="s3cret-value",  # type: ignore[arg-type]  # pydantic coerces str to SecretStr
    )
    assert settings.confluent_config()["sasl.password"] == "s3cret-value"
    assert settings.aiokafka_config()["sasl_plain_password"] == "s3cret-value"
    assert "s3cret-value" not in repr(settings)
    assert "s3cret-value" not in str(settings.model_dump())
