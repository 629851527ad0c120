"""Per-agency security: agency definitions, least-privilege ACL rules, credentials and a local CA.

One :class:`AgencyDefinition` per agency (kept in ``agencies.toml``) says what it publishes and
which other agencies' topics it may read. From it come its Kafka ACL rules (:func:`agency_rules`),
applied to a cluster by :class:`SecurityAdmin` or rendered as Strimzi ``KafkaUser`` resources
(:meth:`AclRule.to_strimzi`), and its topics. :class:`CertificateAuthority` issues the
certificates of a local secured stack; :class:`RegistryUsers` is the registry's basic-auth file.
"""

from __future__ import annotations

from exchange.security._acl import AclRule, agency_rules, monitor_rules, registry_rules
from exchange.security._agencies import (
    RESERVED_PRINCIPALS,
    AgencyBook,
    AgencyDefinition,
    default_agencies_file,
)
from exchange.security._kafka import SecurityAdmin, to_bindings
from exchange.security._secrets import (
    RegistryUser,
    RegistryUsers,
    Role,
    hash_password,
    new_password,
    verify_password,
)
from exchange.security._tls import CertificateAuthority, ServerCertificate, ca_certificate

__all__ = [
    "RESERVED_PRINCIPALS",
    "AclRule",
    "AgencyBook",
    "AgencyDefinition",
    "CertificateAuthority",
    "RegistryUser",
    "RegistryUsers",
    "Role",
    "SecurityAdmin",
    "ServerCertificate",
    "agency_rules",
    "ca_certificate",
    "default_agencies_file",
    "hash_password",
    "monitor_rules",
    "new_password",
    "registry_rules",
    "to_bindings",
    "verify_password",
]
