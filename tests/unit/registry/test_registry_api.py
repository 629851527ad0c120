"""HTTP behaviour clients branch on: status codes, error codes, content type, config defaults."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

V1 = json.dumps({"type": "record", "name": "P", "namespace": "t", "fields": [{"name": "a", "type": "int"}]})
V2 = json.dumps(
    {
        "type": "record",
        "name": "P",
        "namespace": "t",
        "fields": [{"name": "a", "type": "int"}, {"name": "b", "type": "string", "default": ""}],
    }
)


def post(client: TestClient, path: str, schema: str, **extra: Any) -> Any:
    return client.post(path, json={"schema": schema, **extra})


def expect_error(response: Any, status: int, code: int) -> None:
    assert (response.status_code, response.json()["error_code"]) == (status, code), response.text
    assert response.headers["content-type"] == "application/vnd.schemaregistry.v1+json"
    assert isinstance(response.json()["message"], str)


def test_responses_use_the_registry_content_type(client: TestClient) -> None:
    response = post(client, "/subjects/s/versions", V1)
    assert response.status_code == 200
    assert response.json() == {"id": 1}
    assert response.headers["content-type"] == "application/vnd.schemaregistry.v1+json"
    got = client.get("/subjects/s/versions/1").json()
    assert got == {
        "subject": "s",
        "version": 1,
        "id": 1,
        "schema": json.dumps(json.loads(V1), separators=(",", ":")),
    }
    assert "schemaType" not in got and "references" not in got


@pytest.mark.parametrize(
    "case",
    [
        ("GET", "/subjects/nope/versions", None, 404, 40401),
        ("GET", "/subjects/s/versions/9", None, 404, 40402),
        ("GET", "/subjects/s/versions/zero", None, 422, 42202),
        ("GET", "/subjects/s/versions/0", None, 422, 42202),
        ("GET", "/schemas/ids/99", None, 404, 40403),
        ("GET", "/schemas/ids/x", None, 404, 40403),
        ("POST", "/subjects/s", {"schema": V2}, 404, 40403),
        ("POST", "/subjects/nope", {"schema": V1}, 404, 40401),
        ("POST", "/subjects/s/versions", {"schema": "{not json"}, 422, 42201),
        ("POST", "/subjects/s/versions", {"schema": '{"type":"record","name":"X"}'}, 422, 42201),
        ("POST", "/subjects/s/versions", {"schema": V1, "schemaType": "PROTOBUF"}, 422, 42201),
        ("POST", "/subjects/s/versions", {}, 422, 42201),
        ("DELETE", "/subjects/s?permanent=true", None, 404, 40405),
        ("DELETE", "/subjects/s/versions/1?permanent=true", None, 404, 40407),
        ("DELETE", "/subjects/nope", None, 404, 40401),
        ("GET", "/config/s", None, 404, 40408),
        ("DELETE", "/config/s", None, 404, 40408),
        ("PUT", "/config", {"compatibility": "MOSTLY"}, 422, 42203),
        ("GET", "/mode/s", None, 404, 40409),
        ("PUT", "/mode", {"mode": "SOMETIMES"}, 422, 42204),
        ("POST", "/compatibility/subjects/s/versions/7", {"schema": V2}, 404, 40402),
        ("POST", "/compatibility/subjects/nope/versions/latest", {"schema": V2}, 404, 40401),
        ("GET", "/no/such/route", None, 404, 404),
    ],
)
def test_error_codes(client: TestClient, case: tuple[str, str, Any, int, int]) -> None:
    method, path, body, status, code = case
    assert post(client, "/subjects/s/versions", V1).status_code == 200
    expect_error(client.request(method, path, json=body), status, code)


def test_second_soft_delete_says_soft_deleted(client: TestClient) -> None:
    post(client, "/subjects/s/versions", V1)
    post(client, "/subjects/s/versions", V2)
    assert client.delete("/subjects/s/versions/latest").json() == 2
    expect_error(client.delete("/subjects/s/versions/2"), 404, 40406)
    assert client.delete("/subjects/s").json() == [1]
    expect_error(client.delete("/subjects/s"), 404, 40404)
    assert client.get("/subjects").json() == []
    assert client.get("/subjects?deleted=true").json() == ["s"]
    assert client.get("/subjects/s/versions/2?deleted=true").json()["id"] == 2


def test_invalid_json_body_is_a_bad_request(client: TestClient) -> None:
    response = client.post("/subjects/s/versions", content=b"{", headers={"content-type": "application/json"})
    expect_error(response, 400, 400)


def test_read_only_mode_refuses_writes(client: TestClient) -> None:
    assert client.put("/mode", json={"mode": "READONLY"}).json() == {"mode": "READONLY"}
    expect_error(post(client, "/subjects/s/versions", V1), 422, 42205)
    client.put("/mode", json={"mode": "READWRITE"})
    client.put("/mode/s", json={"mode": "READONLY"})
    expect_error(post(client, "/subjects/s/versions", V1), 422, 42205)
    assert post(client, "/subjects/other/versions", V1).status_code == 200
    assert client.delete("/mode/s").json() == {"mode": "READONLY"}
    assert post(client, "/subjects/s/versions", V1).json() == {"id": 1}


def test_identity_survives_spelling_and_normalize_stores_canonical_text(client: TestClient) -> None:
    first = post(client, "/subjects/s/versions", V1).json()["id"]
    reordered = json.dumps(
        {"fields": [{"type": {"type": "int"}, "name": "a"}], "namespace": "t", "name": "P", "type": "record"}
    )
    assert post(client, "/subjects/s/versions", reordered).json()["id"] == first
    assert client.get("/subjects/s/versions").json() == [1]
    assert post(client, "/subjects/s", reordered).json()["version"] == 1

    client.put("/config/n", json={"compatibility": "NONE"})
    other = json.dumps({"type": "record", "name": "Q", "fields": [{"name": "x", "type": {"type": "long"}}]})
    post(client, "/subjects/n/versions?normalize=true", other)
    stored = client.get("/subjects/n/versions/latest/schema").json()
    assert stored["fields"][0]["type"] == "long"


def test_standard_subjects_default_to_full_transitive(make_client: Callable[..., TestClient]) -> None:
    client = make_client(standard_subject_prefixes=("mais.",))
    assert client.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    assert client.get("/config/mais.la1.person.v1-value").json() == {"compatibilityLevel": "FULL_TRANSITIVE"}
    assert client.get("/config/local-value?defaultToGlobal=true").json() == {"compatibilityLevel": "BACKWARD"}
    # FULL_TRANSITIVE refuses a new field without a default (BACKWARD refuses it too)
    required = json.dumps(
        {
            "type": "record",
            "name": "P",
            "namespace": "t",
            "fields": [{"name": "a", "type": "int"}, {"name": "c", "type": "int"}],
        }
    )
    for subject in ("mais.la1.person.v1-value", "local-value"):
        post(client, f"/subjects/{subject}/versions", V1)
    expect_error(post(client, "/subjects/mais.la1.person.v1-value/versions", required), 409, 409)
    # removing a field is BACKWARD-compatible but not FORWARD, so FULL_TRANSITIVE refuses it too
    post(client, "/subjects/local-value/versions", V2)
    post(client, "/subjects/mais.la1.person.v1-value/versions", V2)
    dropped = json.dumps(
        {
            "type": "record",
            "name": "P",
            "namespace": "t",
            "fields": [{"name": "b", "type": "string", "default": ""}],
        }
    )
    assert post(client, "/subjects/local-value/versions", dropped).status_code == 200
    expect_error(post(client, "/subjects/mais.la1.person.v1-value/versions", dropped), 409, 409)


def test_compatibility_verbose_lists_what_broke(client: TestClient) -> None:
    post(client, "/subjects/s/versions", V1)
    changed = V1.replace('"int"', '"string"')
    quiet = post(client, "/compatibility/subjects/s/versions/latest", changed).json()
    assert quiet == {"is_compatible": False}
    verbose = post(client, "/compatibility/subjects/s/versions/1?verbose=true", changed).json()
    assert verbose["is_compatible"] is False
    assert len(verbose["messages"]) == 1
    assert "t.P" in verbose["messages"][0] and "'a'" in verbose["messages"][0]


def test_references_resolve_and_protect_what_they_point_to(client: TestClient) -> None:
    address = json.dumps(
        {"type": "record", "name": "Address", "namespace": "t", "fields": [{"name": "pc", "type": "string"}]}
    )
    post(client, "/subjects/t.Address/versions", address)
    person = json.dumps(
        {"type": "record", "name": "Home", "namespace": "t", "fields": [{"name": "at", "type": "t.Address"}]}
    )
    ref = [{"name": "t.Address", "subject": "t.Address", "version": 1}]
    created = post(client, "/subjects/home/versions", person, references=ref).json()["id"]
    assert client.get(f"/schemas/ids/{created}").json()["references"] == ref
    assert client.get("/subjects/t.Address/versions/1/referencedby").json() == [created]
    expect_error(client.delete("/subjects/t.Address/versions/1"), 422, 42206)
    expect_error(post(client, "/subjects/x/versions", person), 422, 42201)  # reference missing


def test_health_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    post(client, "/subjects/s/versions", V1)
    metrics = client.get("/metrics").text
    assert 'mais_registry_requests_total{method="POST",route="register",status="200"}' in metrics
    assert client.get("/schemas/types").json() == ["AVRO"]
