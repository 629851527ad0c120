"""Who is calling: a client certificate (mutual TLS) or a token signed with the organisation's key.

* **Mutual TLS**: the gateway asks every client for a certificate (optional at the TLS layer, so
  token clients can connect too) and accepts only certificates issued by its trusted CA. The
  certificate's subject common name is the organisation's catalogue id. Uvicorn does not put the
  peer certificate into the ASGI scope, so :class:`PeerCertificateProtocol` (an h11 protocol)
  adds it per connection as the ASGI TLS extension (``scope["extensions"]["tls"]``).
* **Signed token**: ``Authorization: Bearer <JWS>`` in compact form, ``alg`` ``EdDSA`` (Ed25519),
  signed by the organisation's own private key; the gateway knows each organisation's public key
  (``clients.toml``). Claims: ``iss`` the organisation id, ``aud`` the gateway's audience, ``iat``,
  ``exp`` (at most :data:`MAX_TOKEN_LIFETIME_S` later) and a unique ``jti`` (replays are refused).
"""

from __future__ import annotations

import base64
import json
import time
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachetools import TTLCache
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID
from uvicorn.protocols.http.h11_impl import H11Protocol

from exchange.errors import ConfigError

__all__ = [
    "MAX_TOKEN_LIFETIME_S",
    "AuthError",
    "Authenticator",
    "ClientRegistry",
    "PeerCertificateProtocol",
    "load_clients",
    "make_token",
]

MAX_TOKEN_LIFETIME_S = 300


class AuthError(Exception):
    """The caller could not be identified (401) or is not allowed (403)."""

    def __init__(self, status: int, rule: str, message: str) -> None:
        super().__init__(message)
        self.status, self.rule, self.message = status, rule, message


@dataclass(frozen=True)
class ClientRegistry:
    """Organisations that may call the gateway, with their token keys."""

    keys: Mapping[str, Ed25519PublicKey]


def load_clients(path: Path) -> ClientRegistry:
    """``clients.toml``: ``[clients.<organisation id>] public_key = "file.pem"`` (relative to the file)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read as TOML ({exc})", hint="see docs/gateway.md") from None
    keys: dict[str, Ed25519PublicKey] = {}
    for organisation, entry in (data.get("clients") or {}).items():
        pem = (path.parent / str(entry.get("public_key", ""))).resolve()
        try:
            key = serialization.load_pem_public_key(pem.read_bytes())
        except (OSError, ValueError):
            raise ConfigError(
                f"{path}: field clients.{organisation}.public_key: not a readable PEM public key",
                hint="point it at the organisation's Ed25519 public key",
            ) from None
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigError(
                f"{path}: field clients.{organisation}.public_key: not an Ed25519 key", hint="use Ed25519"
            )
        keys[str(organisation)] = key
    return ClientRegistry(keys)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(private_key: Ed25519PrivateKey, organisation: str, audience: str, lifetime_s: int = 60) -> str:
    """A compact JWS (EdDSA) a client sends as ``Authorization: Bearer``; for clients and tests."""
    now = int(time.time())
    header = {"alg": "EdDSA", "typ": "JWT", "kid": organisation}
    claims = {
        "iss": organisation,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime_s,
        "jti": uuid.uuid4().hex,
    }
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(private_key.sign(signing_input.encode()))}"


class Authenticator:
    """Finds the calling organisation of a request (certificate first, then token)."""

    def __init__(self, clients: ClientRegistry, audience: str) -> None:
        self.clients = clients
        self.audience = audience
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=100_000, ttl=MAX_TOKEN_LIFETIME_S * 2)

    def organisation(self, scope: Mapping[str, Any], authorization: str | None) -> tuple[str, str]:
        """``(organisation id, method)`` of the caller; :class:`AuthError` (401) if there is none."""
        tls = (scope.get("extensions") or {}).get("tls") or {}
        chain = tls.get("client_cert_chain") or []
        if chain:
            return _common_name(chain[0]), "mutual-tls"
        if authorization and authorization.lower().startswith("bearer "):
            return self._token(authorization[7:].strip()), "signed-token"
        raise AuthError(401, "no-client-identity", "no client certificate and no bearer token")

    def _token(self, token: str) -> str:
        try:
            head, body, signature = token.split(".")
            header = json.loads(_unb64(head))
            claims = json.loads(_unb64(body))
        except (ValueError, json.JSONDecodeError):
            raise AuthError(401, "token-malformed", "the bearer token is not a compact JWS") from None
        if header.get("alg") != "EdDSA":
            raise AuthError(401, "token-algorithm", "the bearer token must be signed with EdDSA")
        organisation = str(claims.get("iss", ""))
        key = self.clients.keys.get(organisation)
        if key is None:
            raise AuthError(401, "token-unknown-client", "the token's issuer is not a known client")
        try:
            key.verify(_unb64(signature), f"{head}.{body}".encode())
        except (InvalidSignature, ValueError):
            raise AuthError(401, "token-signature", "the token's signature does not verify") from None
        now = time.time()
        expires, issued = float(claims.get("exp", 0)), float(claims.get("iat", 0))
        if claims.get("aud") != self.audience:
            raise AuthError(401, "token-audience", "the token is for another audience")
        if not issued - 30 <= now <= expires or expires - issued > MAX_TOKEN_LIFETIME_S:
            raise AuthError(401, "token-expired", "the token is expired, not yet valid or too long-lived")
        jti = str(claims.get("jti", ""))
        if not jti or jti in self._seen:
            raise AuthError(401, "token-replayed", "the token was already used")
        self._seen[jti] = True
        return organisation


def _common_name(pem: str) -> str:
    certificate = x509.load_pem_x509_certificate(pem.encode())
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise AuthError(401, "certificate-without-name", "the client certificate has no common name")
    return str(names[0].value)


class PeerCertificateProtocol(H11Protocol):
    """uvicorn's h11 protocol, adding the verified client certificate to each request's scope."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der:
            pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()
            inner = self.app

            async def with_tls(scope: Any, receive: Any, send: Any) -> None:
                if scope["type"] == "http":
                    scope = {
                        **scope,
                        "extensions": {
                            **(scope.get("extensions") or {}),
                            "tls": {"client_cert_chain": [pem]},
                        },
                    }
                await inner(scope, receive, send)

            self.app = with_tls
