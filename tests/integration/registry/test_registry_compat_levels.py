"""Every compatibility level accepts and rejects what the Avro resolution rules say it should.

Driven through SchemaRegistryClient: earlier versions are registered with NONE, then the level
under test is set on the subject and the candidate is both tested (all-versions endpoint) and
registered; a rejected registration is a 409.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

pytestmark = pytest.mark.integration


def rec(*fields: dict[str, Any]) -> str:
    return json.dumps({"type": "record", "name": "Episode", "namespace": "uk.mais.t", "fields": list(fields)})


def enum_rec(*symbols: str) -> str:
    kind = {"type": "enum", "name": "Status", "symbols": list(symbols)}
    return rec({"name": "a", "type": "int"}, {"name": "status", "type": kind})


A_INT = {"name": "a", "type": "int"}
A_LONG = {"name": "a", "type": "long"}
A_STRING = {"name": "a", "type": "string"}
B = {"name": "b", "type": "string"}
B_DEFAULT = {"name": "b", "type": "string", "default": ""}

BASE = rec(A_INT)
WITH_B = rec(A_INT, B)
WITH_B_DEFAULT = rec(A_INT, B_DEFAULT)
ADD_B_DEFAULT = ("add a field with a default", [BASE], WITH_B_DEFAULT)
ADD_B = ("add a field without a default", [BASE], WITH_B)
DROP_B = ("remove a field without a default", [WITH_B], BASE)
DROP_B_DEFAULT = ("remove a field with a default", [WITH_B_DEFAULT], BASE)
INT_TO_LONG = ("promote int to long", [BASE], rec(A_LONG))
LONG_TO_INT = ("narrow long to int", [rec(A_LONG)], BASE)
INT_TO_STRING = ("change int to string", [BASE], rec(A_STRING))
ADD_SYMBOL = ("add an enum symbol", [enum_rec("OPEN")], enum_rec("OPEN", "CLOSED"))
DROP_SYMBOL = ("remove an enum symbol", [enum_rec("OPEN", "CLOSED")], enum_rec("OPEN"))
# compatible with the latest version only: v1 lacks b, v2 gave it a default, the new one needs it
NEEDS_B_AGAIN = ("require a field the first version lacks", [BASE, WITH_B_DEFAULT], WITH_B)
# v1 readers need b (no default), v2 readers have a default, the new one stops writing b
STOPS_WRITING_B = ("stop writing a field the first version requires", [WITH_B, WITH_B_DEFAULT], BASE)

CASES: list[tuple[str, tuple[str, list[str], str], bool]] = [
    ("NONE", INT_TO_STRING, True),
    ("NONE", ADD_B, True),
    ("NONE", DROP_B, True),
    ("BACKWARD", ADD_B_DEFAULT, True),
    ("BACKWARD", ADD_B, False),
    ("BACKWARD", DROP_B, True),
    ("BACKWARD", INT_TO_LONG, True),
    ("BACKWARD", LONG_TO_INT, False),
    ("BACKWARD", ADD_SYMBOL, True),
    ("BACKWARD", DROP_SYMBOL, False),
    ("BACKWARD", NEEDS_B_AGAIN, True),
    ("BACKWARD_TRANSITIVE", ADD_B_DEFAULT, True),
    ("BACKWARD_TRANSITIVE", ADD_B, False),
    ("BACKWARD_TRANSITIVE", NEEDS_B_AGAIN, False),
    ("FORWARD", ADD_B, True),
    ("FORWARD", DROP_B, False),
    ("FORWARD", DROP_B_DEFAULT, True),
    ("FORWARD", LONG_TO_INT, True),
    ("FORWARD", INT_TO_LONG, False),
    ("FORWARD", ADD_SYMBOL, False),
    ("FORWARD", STOPS_WRITING_B, True),
    ("FORWARD_TRANSITIVE", ADD_B, True),
    ("FORWARD_TRANSITIVE", DROP_B, False),
    ("FORWARD_TRANSITIVE", STOPS_WRITING_B, False),
    ("FULL", ADD_B_DEFAULT, True),
    ("FULL", DROP_B_DEFAULT, True),
    ("FULL", ADD_B, False),
    ("FULL", DROP_B, False),
    ("FULL", INT_TO_LONG, False),
    ("FULL", INT_TO_STRING, False),
    ("FULL_TRANSITIVE", ADD_B_DEFAULT, True),
    ("FULL_TRANSITIVE", INT_TO_LONG, False),
    ("FULL_TRANSITIVE", NEEDS_B_AGAIN, False),
    ("FULL_TRANSITIVE", STOPS_WRITING_B, False),
]


@pytest.mark.parametrize(
    ("level", "case", "compatible"),
    CASES,
    ids=[f"{level}-{case[0].replace(' ', '_')}-{'ok' if ok else 'rejected'}" for level, case, ok in CASES],
)
def test_level(
    module_registry: Any,
    level: str,
    case: tuple[str, list[str], str],
    compatible: bool,
    request: pytest.FixtureRequest,
) -> None:
    shared_client: SchemaRegistryClient = module_registry.client()
    _label, previous, candidate = case
    subject = f"case-{request.node.callspec.id}"
    shared_client.set_compatibility(subject, "NONE")
    for schema in previous:
        shared_client.register_schema(subject, Schema(schema, "AVRO"))
    shared_client.set_compatibility(subject, level)

    new = Schema(candidate, "AVRO")
    assert shared_client.test_compatibility_all_versions(subject, new) is compatible
    if compatible:
        shared_client.register_schema(subject, new)
        assert shared_client.get_latest_version(subject).version == len(previous) + 1
    else:
        with pytest.raises(SchemaRegistryError) as caught:
            shared_client.register_schema(subject, new)
        assert (caught.value.http_status_code, caught.value.error_code) == (409, 409)
        assert "uk.mais.t" in caught.value.error_message
        assert shared_client.get_versions(subject) == list(range(1, len(previous) + 1))
