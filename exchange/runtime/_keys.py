"""Kafka keys and ``ce_subject`` of events: agency-local record ids in clear, anything else hashed.

An event's key is the adapter's record identifier ``system|value``. When that identifier is the
agency's own record id (a system under ``https://mais-exchange.org/Id/local/`` or an LA child id)
it stays as it is: it orders and compacts the record and means nothing outside the agency. Any
other identifier — an NHS number when a record has no local id, a pupil number, a system we do
not know — is personal data anyone could look up, so it never becomes a key or ``ce_subject`` in
clear: it is replaced by its keyed hash (HMAC-SHA256 under the agency's secret,
:mod:`exchange.hashing`), ``https://mais-exchange.org/Id/keyed-hash/<key id>|<hex>``. The same
identifier always gets the same key (order and compaction hold), nobody without the secret can
recompute it, and the identifier itself still travels in the event for subscribers that match.
"""

from __future__ import annotations

from exchange.errors import ConfigError
from exchange.hashing import KEYED_HASH_SYSTEM_BASE, KeyedHasher
from exchange.identifiers import MAIS_ID_BASE
from exchange.settings import KeyedHashSettings

__all__ = ["CLEAR_KEY_SYSTEMS", "RecordKeys", "keyed_hasher"]

CLEAR_KEY_SYSTEMS = (MAIS_ID_BASE + "local/", MAIS_ID_BASE + "la-child-id/", KEYED_HASH_SYSTEM_BASE)
"""Identifier systems whose values may be keys in clear: agency-local record ids (and our hashes)."""

_SETUP_HINT = (
    "set MAIS_KEYED_HASH_SECRET to the agency's own secret of at least 16 bytes (generate one with "
    "python -c 'import secrets; print(secrets.token_urlsafe(32))'), kept like the agency's passwords"
)


class RecordKeys:
    """Turns an adapter's record key into the key and subject published on Kafka."""

    __slots__ = ("_cache", "_hasher")

    def __init__(self, hasher: KeyedHasher | None) -> None:
        self._hasher = hasher
        self._cache: dict[str, str] = {}

    def public(self, key: str) -> str:
        """``key`` itself if it is an agency-local record id, else its keyed hash as ``system|value``."""
        if key.startswith(CLEAR_KEY_SYSTEMS):
            return key
        found = self._cache.get(key)
        if found is not None:
            return found
        if self._hasher is None:
            raise ConfigError(
                "a record has no agency-local identifier, and its key must be a keyed hash: no secret is set",
                hint=_SETUP_HINT,
            )
        system, sep, value = key.partition("|")
        hashed = self._hasher.hash_identifier(
            {"system": system, "value": value} if sep else {"system": "", "value": key}
        )
        public = f"{hashed['system']}|{hashed['value']}"
        if len(self._cache) >= 10_000:
            self._cache.clear()
        self._cache[key] = public
        return public


def keyed_hasher(settings: KeyedHashSettings, agency: str, *, required: bool) -> KeyedHasher | None:
    """The agency's hasher from settings; a usage error if ``required`` and no secret is set."""
    if settings.secret is None:
        if required:
            raise ConfigError("MAIS_KEYED_HASH_SECRET is not set", hint=_SETUP_HINT)
        return None
    return KeyedHasher(settings.secret, settings.key_id or f"{agency}/1")
