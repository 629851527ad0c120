"""A certificate authority of our own for a local secured stack, and the certificates it issues.

``mais dev up --secure`` keeps its CA in the cluster's state folder: ``ca.pem`` (what clients
trust), ``ca.key`` and, per server, one PEM file holding the PKCS#8 private key followed by the
certificate chain (the layout Kafka's PEM keystore reads; it refuses the traditional
``BEGIN EC PRIVATE KEY`` form). Keys are written owner-readable only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificateAuthority", "ServerCertificate", "ca_certificate"]

_VALID_DAYS = 825
_LOCAL_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True, slots=True)
class ServerCertificate:
    """A server's key and certificate: ``pem`` holds both (key first), ``cert``/``key`` one each."""

    pem: Path
    cert: Path
    key: Path


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def ca_certificate(
    key: CertificateIssuerPrivateKeyTypes, subject: x509.Name, *, valid_for: dt.timedelta
) -> x509.Certificate:
    """A self-signed CA certificate for ``key``: may sign certificates (and CRLs), none below it."""
    now = dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _pkcs8(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class CertificateAuthority:
    """A CA stored in ``directory`` (created on first use, re-used afterwards)."""

    def __init__(self, directory: Path, *, name: str = "MAIS Exchange local CA") -> None:
        self.directory = directory
        self.name = name

    @property
    def cert_file(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def key_file(self) -> Path:
        return self.directory / "ca.key"

    def ensure(self) -> CertificateAuthority:
        """Create the CA's key and self-signed certificate unless they exist."""
        if self.cert_file.is_file() and self.key_file.is_file():
            return self
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        cert = ca_certificate(key, subject, valid_for=dt.timedelta(days=3650))
        _write_private(self.key_file, _pkcs8(key))
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return self

    def issue_server(self, name: str, hosts: tuple[str, ...] = _LOCAL_NAMES) -> ServerCertificate:
        """A server certificate for ``hosts`` (DNS names or IP addresses), stored as ``name.*``."""
        self.ensure()
        ca_key = serialization.load_pem_private_key(self.key_file.read_bytes(), password=None)
        ca_cert = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
        if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
            raise TypeError("the CA key is not an EC key")
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        chain = cert_pem + self.cert_file.read_bytes()
        issued = ServerCertificate(
            pem=self.directory / f"{name}.pem",
            cert=self.directory / f"{name}.crt",
            key=self.directory / f"{name}.key",
        )
        _write_private(issued.pem, _pkcs8(key) + chain)
        _write_private(issued.key, _pkcs8(key))
        issued.cert.write_bytes(chain)
        return issued
