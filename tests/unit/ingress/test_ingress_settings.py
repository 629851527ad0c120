"""Ingress settings and their files are checked at start-up; every error names the file and why."""

from __future__ import annotations

import datetime as dt
import re
import ssl
from pathlib import Path

import pytest
from ingress_pki import TestPki
from pydantic import ValidationError

from exchange.errors import ConfigError
from exchange.ingress import IngressSettings, load_server_tls, parse_client_rule

PASSPHRASE = "correct horse battery staple 7Qx"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki(tmp_path_factory.mktemp("pki"))


def _settings(**values: object) -> IngressSettings:
    return IngressSettings(**values)  # type: ignore[arg-type]  # paths and strings, as the CLI passes them


def _error(settings: IngressSettings) -> str:
    with pytest.raises(ConfigError) as caught:
        load_server_tls(settings)
    return f"{caught.value.message} | {caught.value.hint}"


@pytest.mark.parametrize(
    ("traditional", "rsa", "passphrase"),
    [
        (False, False, None),  # PKCS#8 EC
        (True, False, None),  # traditional EC (BEGIN EC PRIVATE KEY)
        (True, True, None),  # traditional RSA (BEGIN RSA PRIVATE KEY)
        (False, True, PASSPHRASE),  # encrypted PKCS#8 (BEGIN ENCRYPTED PRIVATE KEY)
        (True, True, PASSPHRASE),  # encrypted traditional (Proc-Type: 4,ENCRYPTED)
    ],
)
def test_pkcs8_and_traditional_keys_plain_or_encrypted_make_a_tls_1_2_context(
    tmp_path: Path, traditional: bool, rsa: bool, passphrase: str | None
) -> None:
    pki = TestPki(tmp_path, rsa_keys=rsa)
    server = pki.server(traditional_key=traditional, passphrase=passphrase)
    header = server.key_path.read_text().splitlines()[0]
    assert ("ENCRYPTED" in server.key_path.read_text()) == bool(passphrase), header
    loaded = load_server_tls(
        _settings(tls_cert=server.cert_path, tls_key=server.key_path, tls_key_passphrase=passphrase)
    )
    assert loaded is not None
    assert loaded.context.minimum_version is ssl.TLSVersion.TLSv1_2
    assert loaded.context.verify_mode is ssl.CERT_NONE  # no client CA: no client certificate asked


def test_client_ca_makes_client_certificates_required(pki: TestPki) -> None:
    server = pki.server("server-ca")
    loaded = load_server_tls(
        _settings(
            tls_cert=server.cert_path,
            tls_key=server.key_path,
            tls_client_ca=pki.ca.cert_path,
            allowed_clients=["gp-emis=DNS:gp.example"],
        )
    )
    assert loaded is not None
    assert loaded.context.verify_mode is ssl.CERT_REQUIRED


def test_file_problems_name_the_setting_the_file_and_why(pki: TestPki, tmp_path: Path) -> None:
    server = pki.server("server-files")
    other = pki.server("server-other")
    expired = pki.server("server-expired", expired=True)
    not_pem = tmp_path / "cert.der"
    not_pem.write_bytes(b"\x30\x82\x01\x0a not a pem file")
    missing = tmp_path / "missing.pem"

    message = _error(_settings(tls_cert=missing, tls_key=server.key_path))
    assert f"--tls-cert (MAIS_INGRESS_TLS_CERT) {missing}: no such file" in message
    message = _error(_settings(tls_cert=tmp_path, tls_key=server.key_path))
    assert f"{tmp_path}: is a folder" in message
    message = _error(_settings(tls_cert=not_pem, tls_key=server.key_path))
    assert "holds no PEM certificate" in message
    assert "openssl x509" in message  # says how to convert
    message = _error(_settings(tls_cert=server.cert_path, tls_key=server.cert_path))
    assert f"--tls-key (MAIS_INGRESS_TLS_KEY) {server.cert_path}: holds no PEM private key" in message
    message = _error(_settings(tls_cert=server.cert_path, tls_key=other.key_path))
    assert f"{other.key_path}: the key does not belong to the certificate {server.cert_path}" in message
    message = _error(_settings(tls_cert=expired.cert_path, tls_key=expired.key_path))
    assert f"{expired.cert_path}: the certificate expired on" in message
    assert "issue a new certificate" in message


def test_a_certificate_not_yet_valid_is_refused(pki: TestPki) -> None:
    server = pki.server("server-future")
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with pytest.raises(ConfigError, match="not valid before"):
        load_server_tls(_settings(tls_cert=server.cert_path, tls_key=server.key_path), now=yesterday)


def test_key_passphrase_problems_never_show_the_passphrase(pki: TestPki) -> None:
    encrypted = pki.server("server-encrypted", passphrase=PASSPHRASE)
    plain = pki.server("server-plain")
    wrong = "not-the-passphrase-Zk93"

    message = _error(_settings(tls_cert=encrypted.cert_path, tls_key=encrypted.key_path))
    assert "the key is encrypted and no passphrase was given" in message
    assert "MAIS_INGRESS_TLS_KEY_PASSPHRASE" in message
    message = _error(
        _settings(tls_cert=encrypted.cert_path, tls_key=encrypted.key_path, tls_key_passphrase=wrong)
    )
    assert "the passphrase does not decrypt the key" in message
    assert wrong not in message
    message = _error(_settings(tls_cert=plain.cert_path, tls_key=plain.key_path, tls_key_passphrase=wrong))
    assert "not encrypted but a passphrase was given" in message
    assert wrong not in message
    settings = _settings(
        tls_cert=encrypted.cert_path, tls_key=encrypted.key_path, tls_key_passphrase=PASSPHRASE
    )
    assert PASSPHRASE not in repr(settings)
    assert PASSPHRASE not in str(settings.model_dump())


def test_client_ca_must_be_a_valid_ca(pki: TestPki, tmp_path: Path) -> None:
    server = pki.server("server-for-ca")
    leaf = pki.issue("a-sender", dns=("gp.example",))
    old_ca = TestPki(tmp_path / "old")
    old_leaf_as_ca = old_ca.issue("expired-leaf", expired=True)

    def with_ca(path: Path) -> str:
        return _error(
            _settings(
                tls_cert=server.cert_path,
                tls_key=server.key_path,
                tls_client_ca=path,
                allowed_clients=["gp=DNS:gp.example"],
            )
        )

    message = with_ca(leaf.cert_path)
    assert (
        f"--tls-client-ca (MAIS_INGRESS_TLS_CLIENT_CA) {leaf.cert_path}: holds a certificate that is not a CA"
        in message
    )
    assert "not a CA" in with_ca(old_leaf_as_ca.cert_path)
    assert "no such file" in with_ca(tmp_path / "nothing.pem")


def test_start_up_warns_of_a_certificate_expiring_soon_and_a_key_others_can_read(pki: TestPki) -> None:
    server = pki.server("server-soon", valid_days=5)
    server.key_path.chmod(0o644)
    loaded = load_server_tls(_settings(tls_cert=server.cert_path, tls_key=server.key_path))
    assert loaded is not None
    assert any("expires on" in w for w in loaded.warnings)
    assert any("can be read by other users" in w for w in loaded.warnings)
    fine = pki.server("server-fine", valid_days=90)
    loaded = load_server_tls(_settings(tls_cert=fine.cert_path, tls_key=fine.key_path))
    assert loaded is not None
    assert loaded.warnings == []


def test_settings_that_do_not_go_together_are_refused(pki: TestPki) -> None:
    server = pki.server("server-combos")
    cases: list[tuple[dict[str, object], str]] = [
        ({"tls_cert": server.cert_path}, "--tls-cert (MAIS_INGRESS_TLS_CERT) and --tls-key"),
        ({"tls_key_passphrase": "x"}, "there is no --tls-key"),
        ({"tls_client_ca": pki.ca.cert_path, "allowed_clients": ["a=DNS:a"]}, "needs --tls-cert"),
        (
            {"tls_cert": server.cert_path, "tls_key": server.key_path, "tls_client_ca": pki.ca.cert_path},
            "needs --tls-allow-client",
        ),
        ({"allowed_clients": ["gp=DNS:gp.example"]}, "needs --tls-client-ca"),
        (
            {
                "tls_cert": server.cert_path,
                "tls_key": server.key_path,
                "tls_client_ca": pki.ca.cert_path,
                "allowed_clients": ["gp=DNS:gp.example", "pas=dns:gp.example"],
            },
            "allowed for two senders",
        ),
    ]
    for values, expected in cases:
        with pytest.raises(ValidationError, match=re.escape(expected)):
            _settings(**values)


def test_allowlist_entries_name_a_system_and_a_certificate_field() -> None:
    assert str(parse_client_rule("gp-emis=DNS:gp.example")) == "gp-emis=DNS:gp.example"
    assert parse_client_rule(" pas=subject:CN=pas,O=Trust ").value == "CN=pas,O=Trust"
    assert parse_client_rule("lab=uri:spiffe://trust/lab").kind == "URI"
    assert parse_client_rule("ward7=cn:ward7.example").kind == "CN"
    for bad, why in [
        ("gp.example", "not NAME=KIND:VALUE"),
        ("gp=gp.example", "not NAME=KIND:VALUE"),
        ("Dr Smith=DNS:gp.example", "the name of a system, never a person"),
        ("gp=IP:10.0.0.1", "unknown kind"),
        ("gp=DNS:", "not NAME=KIND:VALUE"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_client_rule(bad)


def test_environment_variables_configure_ingress(monkeypatch: pytest.MonkeyPatch, pki: TestPki) -> None:
    server = pki.server("server-env")
    monkeypatch.setenv("MAIS_INGRESS_TLS_CERT", str(server.cert_path))
    monkeypatch.setenv("MAIS_INGRESS_TLS_KEY", str(server.key_path))
    monkeypatch.setenv("MAIS_INGRESS_TLS_CLIENT_CA", str(pki.ca.cert_path))
    monkeypatch.setenv("MAIS_INGRESS_ALLOWED_CLIENTS", '["gp-emis=DNS:gp.example", "pas=CN:pas.example"]')
    monkeypatch.setenv("MAIS_INGRESS_READ_TIMEOUT_S", "5")
    settings = IngressSettings()
    assert [rule.name for rule in settings.allowed_clients] == ["gp-emis", "pas"]
    assert settings.read_timeout_s == 5.0
    assert settings.tls and settings.client_certificates and not settings.tokens
