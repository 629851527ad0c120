"""Who is sending: a named system, recognised by its client certificate or its bearer token.

A :class:`Sender` is what the runtime records with every unit it accepts: its name goes into the
event envelope (``ce_authid``, with ``ce_authtype``) and into the DLQ headers. Names are those the
agency configured (``--tls-allow-client NAME=…``, the token file), never taken from a certificate
or a request, so no person's name can reach a topic through them.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.x509.oid import NameOID

from exchange.ingress._settings import ClientRule

__all__ = ["AUTH_TYPES", "AuthMethod", "ClientAllowlist", "Sender", "is_loopback"]

AuthMethod = Literal["certificate", "token"]

AUTH_TYPES: dict[str, str] = {"certificate": "service_account", "token": "api_key"}
"""CloudEvents ``authtype`` (Auth Context extension) of each way a sender can authenticate."""


@dataclass(frozen=True, slots=True)
class Sender:
    """An authenticated sender: the configured name of a system, and how it proved it."""

    name: str
    method: AuthMethod

    @property
    def auth_type(self) -> str:
        return AUTH_TYPES[self.method]


class ClientAllowlist:
    """Maps a verified client certificate to the sender it names, or to nobody."""

    def __init__(self, rules: tuple[ClientRule, ...]) -> None:
        self.rules = rules

    def sender_for(self, der: bytes) -> Sender | None:
        """The sender whose rule the certificate matches (the first rule wins), else ``None``."""
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError:
            return None
        dns: set[str] = set()
        uris: set[str] = set()
        try:
            names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns = {name.lower() for name in names.get_values_for_type(x509.DNSName)}
            uris = set(names.get_values_for_type(x509.UniformResourceIdentifier))
        except x509.ExtensionNotFound:
            pass
        common_names = {
            str(attribute.value)
            for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        }
        subject = certificate.subject.rfc4514_string()
        for rule in self.rules:
            if (
                (rule.kind == "DNS" and rule.value.lower() in dns)
                or (rule.kind == "URI" and rule.value in uris)
                or (rule.kind == "CN" and rule.value in common_names)
                or (rule.kind == "subject" and rule.value == subject)
            ):
                return Sender(rule.name, "certificate")
        return None


def is_loopback(host: str) -> bool:
    """True when every address ``host`` stands for is loopback (``127.0.0.1``, ``::1``, ``localhost``)."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(bare, None)
    except OSError:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addresses)
