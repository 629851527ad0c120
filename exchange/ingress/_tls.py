"""The listener's TLS: its certificate and key, the senders' CA, checked at start-up.

Every file is read and checked before a socket is opened, so a mistake stops the adapter with
a message naming the setting, the file and what is wrong: unreadable, not PEM, a key that does
not belong to the certificate, an encrypted key without (or with the wrong) passphrase, a
certificate that has expired or is not valid yet, a "CA" file holding no CA. Keys may be PKCS#8
(``BEGIN PRIVATE KEY``, ``BEGIN ENCRYPTED PRIVATE KEY``) or traditional OpenSSL PEM (``BEGIN RSA
PRIVATE KEY``, ``BEGIN EC PRIVATE KEY``). The context refuses anything older than TLS 1.2.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from exchange.errors import ConfigError
from exchange.ingress._settings import IngressSettings, setting_label

__all__ = ["ServerTls", "load_server_tls"]

_EXPIRY_WARNING = dt.timedelta(days=30)


@dataclass(frozen=True)
class ServerTls:
    """A ready server context and what start-up should warn about (expiring soon, loose key file)."""

    context: ssl.SSLContext
    certificate: x509.Certificate
    warnings: list[str] = field(default_factory=list)


def _problem(setting: str, path: Path, why: str, hint: str) -> ConfigError:
    return ConfigError(f"{setting_label(setting)} {path}: {why}", hint=hint)


def _read(setting: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise _problem(setting, path, "no such file", "check the path") from None
    except IsADirectoryError:
        raise _problem(setting, path, "is a folder, not a file", "name the PEM file itself") from None
    except OSError as exc:
        raise _problem(
            setting, path, f"cannot be read ({exc.strerror})", "let the adapter's user read it"
        ) from None


def _certificates(setting: str, path: Path) -> list[x509.Certificate]:
    data = _read(setting, path)
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        certificates = []
    if not certificates:
        raise _problem(
            setting,
            path,
            "holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
            "convert it with: openssl x509 -in FILE -out FILE.pem (add -inform DER for a binary file)",
        )
    return certificates


def _check_dates(setting: str, path: Path, certificate: x509.Certificate, now: dt.datetime) -> str | None:
    """An error if ``certificate`` is not valid now; a warning if it expires within 30 days."""
    if certificate.not_valid_after_utc <= now:
        raise _problem(
            setting,
            path,
            f"the certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
            "issue a new certificate",
        )
    if certificate.not_valid_before_utc > now:
        raise _problem(
            setting,
            path,
            f"the certificate is not valid before {certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
            "check this machine's clock, or wait until the certificate is valid",
        )
    if certificate.not_valid_after_utc - now < _EXPIRY_WARNING:
        return f"{setting_label(setting)} {path} expires on {certificate.not_valid_after_utc:%Y-%m-%d}"
    return None


def _private_key(settings: IngressSettings, path: Path) -> PrivateKeyTypes:
    data = _read("tls_key", path)
    if b"PRIVATE KEY-----" not in data:
        raise _problem(
            "tls_key",
            path,
            "holds no PEM private key "
            "(expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA/EC PRIVATE KEY-----)",
            "name the key file that belongs to the certificate",
        )
    secret = settings.tls_key_passphrase
    password = secret.get_secret_value().encode() if secret is not None else None
    try:
        return serialization.load_pem_private_key(data, password=password)
    except TypeError:
        # cryptography says whether a password was missing or superfluous; its words hold no secret
        if password is None:
            raise _problem(
                "tls_key",
                path,
                "the key is encrypted and no passphrase was given",
                f"set {setting_label('tls_key_passphrase')}",
            ) from None
        raise _problem(
            "tls_key",
            path,
            "the key is not encrypted but a passphrase was given",
            f"unset {setting_label('tls_key_passphrase')}",
        ) from None
    except ValueError:
        if password is not None:
            raise _problem(
                "tls_key",
                path,
                "the passphrase does not decrypt the key",
                f"check {setting_label('tls_key_passphrase')}",
            ) from None
        raise _problem(
            "tls_key",
            path,
            "the private key cannot be read (damaged or an unsupported type)",
            "export it again",
        ) from None
    except Exception:  # an unsupported algorithm: cryptography's message may quote the file
        raise _problem(
            "tls_key", path, "the private key type is not supported", "use an RSA or EC key"
        ) from None


def _public_bytes(key: object) -> bytes:
    public_bytes: Callable[..., bytes] = key.public_bytes  # type: ignore[attr-defined]
    return public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _client_ca(path: Path, now: dt.datetime) -> None:
    authorities = _certificates("tls_client_ca", path)
    for certificate in authorities:
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is None or not constraints.ca:
            raise _problem(
                "tls_client_ca",
                path,
                "holds a certificate that is not a CA (no basicConstraints CA:TRUE)",
                "name the CA that issued the senders' certificates, not a sender's own certificate",
            )
        _check_dates("tls_client_ca", path, certificate, now)


def load_server_tls(settings: IngressSettings, now: dt.datetime | None = None) -> ServerTls | None:
    """The listener's TLS context (``None`` without ``tls_cert``); ``ConfigError`` names a bad file."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    now = now or dt.datetime.now(dt.UTC)
    cert_path, key_path = settings.tls_cert, settings.tls_key
    chain = _certificates("tls_cert", cert_path)
    warnings = [w for w in [_check_dates("tls_cert", cert_path, chain[0], now)] if w]
    key = _private_key(settings, key_path)
    if _public_bytes(key.public_key()) != _public_bytes(chain[0].public_key()):
        raise _problem(
            "tls_key",
            key_path,
            f"the key does not belong to the certificate {cert_path} (their public keys differ)",
            "pass the key the certificate was issued for",
        )
    if key_path.stat().st_mode & 0o077:
        warnings.append(f"{setting_label('tls_key')} {key_path} can be read by other users (chmod 600 it)")
    if settings.tls_client_ca is not None:
        _client_ca(settings.tls_client_ca, now)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_RENEGOTIATION | ssl.OP_CIPHER_SERVER_PREFERENCE
    secret = settings.tls_key_passphrase

    def passphrase() -> bytes:  # a callable: OpenSSL never prompts on a terminal
        return secret.get_secret_value().encode() if secret is not None else b""

    try:
        context.load_cert_chain(cert_path, key_path, password=passphrase)
        if settings.tls_client_ca is not None:
            context.load_verify_locations(cafile=settings.tls_client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
    except ssl.SSLError as exc:
        raise ConfigError(
            f"{setting_label('tls_cert')} {cert_path}: OpenSSL refused the certificate files ({exc.reason})",
            hint="check the certificate, key and CA files",
        ) from None
    return ServerTls(context, chain[0], warnings)
