"""Settings of an adapter's listeners (``http:`` and ``mllp:`` sources): ``MAIS_INGRESS_*``.

They say how a listener proves who it is (TLS certificate and key), how senders prove who they
are (client certificates from one CA, matched against an allowlist of named senders; bearer
tokens from a file of hashes, HTTP only), and how long and how much one sender may take. The
fields are checked for consistency here; the files they name are read and checked by
:func:`~exchange.ingress.build_gate` at start-up, with errors naming the file and what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SENDER_NAME", "ClientRule", "IngressSettings", "parse_client_rule", "setting_label"]

SENDER_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,62}[a-z0-9])?\Z")
"""A sender's name: the name of a system (``gp-emis``, ``pas.hospital``), never a person."""

OPTIONS = {
    "tls_cert": "--tls-cert",
    "tls_key": "--tls-key",
    "tls_key_passphrase": None,
    "tls_client_ca": "--tls-client-ca",
    "allowed_clients": "--tls-allow-client",
    "token_file": "--token-file",
    "insecure": "--insecure",
}
"""The ``mais adapter run`` option of each setting (the passphrase is never an option: environment only)."""


def setting_label(field: str) -> str:
    """How a user sets ``field``: ``--tls-key (MAIS_INGRESS_TLS_KEY)``."""
    env = f"MAIS_INGRESS_{field.upper()}"
    option = OPTIONS.get(field)
    return f"{option} ({env})" if option else env


_KINDS = {"dns": "DNS", "uri": "URI", "cn": "CN", "subject": "subject"}
_RULE_HINT = "write NAME=DNS:host, NAME=URI:uri, NAME=CN:common-name or NAME=subject:CN=...,O=..."

MatchKind = Literal["DNS", "URI", "CN", "subject"]


@dataclass(frozen=True, slots=True)
class ClientRule:
    """One allowlist entry: the sender ``name`` is whoever presents a certificate with ``value``.

    ``DNS`` and ``URI`` match a subject alternative name, ``CN`` the subject's common name,
    ``subject`` the whole subject as an RFC 4514 string (``CN=gp.example,O=Practice``).
    """

    name: str
    kind: MatchKind
    value: str

    def __str__(self) -> str:
        return f"{self.name}={self.kind}:{self.value}"


def parse_client_rule(text: str) -> ClientRule:
    """Parse ``NAME=KIND:VALUE``; a malformed entry raises ``ValueError`` saying how to write it."""
    name, sep, selector = text.strip().partition("=")
    kind, colon, value = selector.partition(":")
    if not sep or not colon or not value.strip():
        raise ValueError(f"allowed client {text!r} is not NAME=KIND:VALUE; {_RULE_HINT}")
    if not SENDER_NAME.match(name):
        raise ValueError(
            f"sender name {name!r}: lower-case letters, digits, inner dots and hyphens "
            "(the name of a system, never a person)"
        )
    canonical = _KINDS.get(kind.strip().lower())
    if canonical is None:
        raise ValueError(f"allowed client {text!r}: unknown kind {kind!r}; {_RULE_HINT}")
    return ClientRule(name, canonical, value.strip())  # type: ignore[arg-type]  # one of MatchKind


class IngressSettings(BaseSettings):
    """TLS, sender authentication and limits of one adapter's listener.

    Without ``tls_cert`` the listener speaks plain TCP/HTTP and may only bind a loopback address
    (unless ``insecure``). ``allowed_clients`` entries are ``NAME=KIND:VALUE`` (see
    :class:`ClientRule`); in the environment, a JSON list.
    """

    model_config = SettingsConfigDict(env_prefix="MAIS_INGRESS_", extra="forbid", frozen=True)

    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_key_passphrase: SecretStr | None = None
    tls_client_ca: Path | None = None
    allowed_clients: tuple[ClientRule, ...] = ()
    token_file: Path | None = None
    insecure: bool = False

    max_connections: Annotated[int, Field(ge=1, le=10_000)] = 256
    """Connections served at once; one more is closed straight away."""
    handshake_timeout_s: Annotated[float, Field(gt=0, le=600)] = 10.0
    """Time a sender has to complete the TLS handshake."""
    header_timeout_s: Annotated[float, Field(gt=0, le=600)] = 10.0
    """Time an HTTP sender has to send its request line and headers."""
    read_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    """Time a sender has for one HTTP body or one MLLP message, from its first byte to its last."""
    idle_timeout_s: Annotated[float, Field(gt=0, le=86_400)] = 300.0
    """Time an MLLP connection may stay silent between two messages."""

    @field_validator("allowed_clients", mode="before")
    @classmethod
    def _parse_rules(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            return tuple(parse_client_rule(v) if isinstance(v, str) else v for v in value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> IngressSettings:
        cert, key, ca = setting_label("tls_cert"), setting_label("tls_key"), setting_label("tls_client_ca")
        allow = setting_label("allowed_clients")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError(f"{cert} and {key} go together: the listener needs its certificate and its key")
        if self.tls_key_passphrase is not None and self.tls_key is None:
            raise ValueError(f"{setting_label('tls_key_passphrase')} is set but there is no {key}")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError(f"{ca} needs {cert} and {key}: client certificates are checked inside TLS")
        if self.tls_client_ca is not None and not self.allowed_clients:
            raise ValueError(
                f"{ca} needs {allow}: name each sender and the certificate it presents (NAME=DNS:host), "
                "so that any certificate from the same CA is not enough"
            )
        if self.allowed_clients and self.tls_client_ca is None:
            raise ValueError(f"{allow} needs {ca}: the CA that issues the senders' certificates")
        names: dict[str, str] = {}
        for rule in self.allowed_clients:
            selector = f"{rule.kind}:{rule.value}"
            if names.setdefault(selector, rule.name) != rule.name:
                raise ValueError(f"{allow}: certificate {selector} is allowed for two senders")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def client_certificates(self) -> bool:
        return self.tls_client_ca is not None

    @property
    def tokens(self) -> bool:
        return self.token_file is not None
