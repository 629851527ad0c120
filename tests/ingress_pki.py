"""A throw-away PKI for ingress tests: a CA, a server certificate for 127.0.0.1/localhost, client
certificates from that CA and from another CA, written as PEM files (PKCS#8 or traditional keys,
optionally encrypted). Made with the ``cryptography`` package, in a temporary folder per test.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from exchange.security import ca_certificate

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, in memory and as files."""

    cert: x509.Certificate
    key: PrivateKey
    cert_path: Path
    key_path: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MAIS Exchange tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def write_key(
    key: PrivateKey, path: Path, *, traditional: bool = False, passphrase: str | None = None
) -> Path:
    """Write ``key`` as PKCS#8 (``BEGIN PRIVATE KEY``) or traditional OpenSSL PEM, maybe encrypted."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, fmt, encryption))
    path.chmod(0o600)
    return path


class TestPki:
    """A CA that issues certificates into ``folder``; ``TestPki(folder, "other")`` is another CA."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, folder: Path, name: str = "ca", *, rsa_keys: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.name = name
        self._rsa = rsa_keys
        key = self._new_key()
        cert = ca_certificate(key, _name(f"{name} test CA"), valid_for=dt.timedelta(days=30))
        cert_path = folder / f"{name}.crt"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.ca = Issued(cert, key, cert_path, write_key(key, folder / f"{name}.key"))

    def _new_key(self) -> PrivateKey:
        if self._rsa:
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return ec.generate_private_key(ec.SECP256R1())

    def issue(
        self,
        file_name: str,
        *,
        common_name: str | None = None,
        dns: tuple[str, ...] = (),
        ips: tuple[str, ...] = (),
        uris: tuple[str, ...] = (),
        server: bool = False,
        valid_days: float = 7.0,
        expired: bool = False,
        traditional_key: bool = False,
        passphrase: str | None = None,
    ) -> Issued:
        """A leaf certificate signed by this CA (a client certificate unless ``server``)."""
        key = self._new_key()
        now = _now()
        start = now - dt.timedelta(days=10 if expired else 0, minutes=5)
        end = now - dt.timedelta(days=1) if expired else now + dt.timedelta(days=valid_days)
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        names += [x509.UniformResourceIdentifier(u) for u in uris]
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name or file_name))
            .issuer_name(self.ca.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca.key.public_key()), critical=False
            )
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.ca.key, hashes.SHA256())
        cert_path = self.folder / f"{file_name}.crt"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path = write_key(
            key, self.folder / f"{file_name}.key", traditional=traditional_key, passphrase=passphrase
        )
        return Issued(cert, key, cert_path, key_path)

    def server(self, file_name: str = "server", **kwargs: object) -> Issued:
        """A server certificate for ``127.0.0.1`` and ``localhost``."""
        return self.issue(file_name, dns=("localhost",), ips=("127.0.0.1",), server=True, **kwargs)  # type: ignore[arg-type]
