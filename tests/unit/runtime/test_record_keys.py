"""Keys and ce_subject: agency-local record ids in clear, every other identifier as a keyed hash."""

from __future__ import annotations

import pytest

from exchange.errors import ConfigError
from exchange.hashing import KEYED_HASH_SYSTEM_BASE, KeyedHasher
from exchange.identifiers import NHS_NUMBER_SYSTEM, UPN_SYSTEM, la_child_id_system, local_system
from exchange.runtime._keys import RecordKeys, keyed_hasher
from exchange.settings import KeyedHashSettings

SECRET = b"leeds-cc secret of the unit tests"


def _keys(secret: bytes = SECRET) -> RecordKeys:
    return RecordKeys(KeyedHasher(secret, "leeds-cc/1"))


@pytest.mark.parametrize(
    "key",
    [
        f"{local_system('RX1', 'mrn')}|RGT4455667",
        f"{la_child_id_system('202')}|LA0001",
        f"{KEYED_HASH_SYSTEM_BASE}x/1|ab",
    ],
)
def test_agency_local_record_ids_stay_in_clear(key: str) -> None:
    assert _keys().public(key) == key
    assert RecordKeys(None).public(key) == key  # no secret needed for them


@pytest.mark.parametrize(
    "key",
    [
        f"{NHS_NUMBER_SYSTEM}|9434765919",
        f"{UPN_SYSTEM}|A123456789012",
        "https://trust.example/Id/mrn|77",
        "no-system",
    ],
)
def test_any_other_identifier_becomes_a_stable_keyed_hash(key: str) -> None:
    public = _keys().public(key)
    system, _, digest = public.partition("|")
    assert system == KEYED_HASH_SYSTEM_BASE + "leeds-cc/1"
    assert len(digest) == 64
    assert key.rsplit("|", 1)[-1] not in public
    assert _keys().public(key) == public  # the same identifier, the same key: order and compaction hold
    assert _keys(b"another agency's secret, 32 bytes").public(key) != public


def test_nhs_numbers_written_differently_get_the_same_key() -> None:
    keys = _keys()
    assert keys.public(f"{NHS_NUMBER_SYSTEM}|943 476 5919") == keys.public(f"{NHS_NUMBER_SYSTEM}|9434765919")


def test_without_a_secret_a_key_that_needs_hashing_stops_with_what_to_do() -> None:
    with pytest.raises(ConfigError, match="keyed hash") as raised:
        RecordKeys(None).public(f"{NHS_NUMBER_SYSTEM}|9434765919")
    assert "MAIS_KEYED_HASH_SECRET" in (raised.value.hint or "")
    assert "9434765919" not in raised.value.message


def test_the_key_id_defaults_to_the_agency_and_can_be_set_for_a_rotation() -> None:
    settings = KeyedHashSettings(secret=SECRET.decode())
    default = keyed_hasher(settings, "leeds-cc", required=True)
    assert default is not None
    assert default.key_id == "leeds-cc/1"
    rotated = keyed_hasher(
        KeyedHashSettings(secret=SECRET.decode(), key_id="leeds-cc/2"), "leeds-cc", required=True
    )
    assert rotated is not None
    assert rotated.key_id == "leeds-cc/2"
    assert keyed_hasher(KeyedHashSettings(), "leeds-cc", required=False) is None
    assert "leeds-cc secret" not in repr(settings)
