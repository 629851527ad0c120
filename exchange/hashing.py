"""Keyed hashes of identifiers: HMAC-SHA256 under a per-agency secret.

A plain SHA-256 of an NHS number is no protection: there are only a billion of them, so anyone can
hash them all. A keyed hash (HMAC) can only be recomputed by whoever holds the agency's secret, so
audit entries, keys of records with no local identifier and similar can carry a stable stand-in for
an identifier without carrying the identifier.

* :class:`KeyedHasher` holds one secret and the id that names it (the id is not secret: it says
  which key to use when recomputing, e.g. ``northvale-nhs-trust/2026-1`` after a rotation).
* :meth:`KeyedHasher.hash_identifier` turns a standard Identifier (``system`` + ``value``) into an
  Identifier whose system names the key (``https://mais-exchange.org/Id/keyed-hash/<key id>``)
  and whose value is the hex HMAC of the normalised system and value.
* :meth:`KeyedHasher.hexdigest` hashes any parts (joined unambiguously) for other uses.

Identifier values are normalised before hashing as PUB03 asks (whitespace removed; NHS numbers
to their ten digits), so ``943 476 5919`` and ``9434765919`` hash alike.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from pydantic import SecretStr

from exchange.errors import ConfigError
from exchange.identifiers import MAIS_ID_BASE, NHS_NUMBER_SYSTEM, normalise_nhs_number

__all__ = ["KEYED_HASH_SYSTEM_BASE", "KeyedHasher", "normalise_identifier_value"]

KEYED_HASH_SYSTEM_BASE = MAIS_ID_BASE + "keyed-hash/"
"""Identifier systems of keyed hashes are this base plus the key id."""

_KEY_ID = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,99}$")
_WHITESPACE = re.compile(r"\s+")
_MIN_SECRET_BYTES = 16


def normalise_identifier_value(system: str, value: str) -> str:
    """The value PUB03 compares: NHS numbers as ten digits, anything else without whitespace."""
    if system == NHS_NUMBER_SYSTEM:
        return normalise_nhs_number(value)
    return _WHITESPACE.sub("", value)


class KeyedHasher:
    """HMAC-SHA256 of identifiers under one secret, named by ``key_id``."""

    __slots__ = ("_secret", "key_id", "system")

    def __init__(self, secret: SecretStr | bytes, key_id: str) -> None:
        raw = secret.get_secret_value().encode() if isinstance(secret, SecretStr) else bytes(secret)
        if len(raw) < _MIN_SECRET_BYTES:
            raise ConfigError(
                f"the keyed-hash secret for key {key_id!r} is shorter than {_MIN_SECRET_BYTES} bytes",
                hint="generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            )
        if not _KEY_ID.match(key_id):
            raise ConfigError(
                f"invalid keyed-hash key id {key_id!r}",
                hint="use lower-case letters, digits and . _ / - (e.g. 'northvale-nhs-trust/2026-1')",
            )
        self._secret = raw
        self.key_id = key_id
        self.system = KEYED_HASH_SYSTEM_BASE + key_id

    def hexdigest(self, *parts: str) -> str:
        """Hex HMAC-SHA256 of ``parts`` (each length-prefixed, so ``("ab", "c")`` != ``("a", "bc")``)."""
        mac = hmac.new(self._secret, digestmod=hashlib.sha256)
        for part in parts:
            data = part.encode()
            mac.update(len(data).to_bytes(4, "big"))
            mac.update(data)
        return mac.hexdigest()

    def hash_identifier(self, identifier: Mapping[str, str]) -> dict[str, str]:
        """The keyed-hash stand-in of a standard Identifier (``{"system", "value"}``).

        An identifier that is already a keyed hash of this key is returned unchanged.
        """
        system, value = str(identifier["system"]), str(identifier["value"])
        if system == self.system:
            return {"system": system, "value": value}
        return {
            "system": self.system,
            "value": self.hexdigest(system, normalise_identifier_value(system, value)),
        }

    def __repr__(self) -> str:
        return f"KeyedHasher(key_id={self.key_id!r})"
