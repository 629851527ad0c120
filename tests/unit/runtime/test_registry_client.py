"""The REST client against an HTTP-level stand-in (unit test; the real registry is tested elsewhere)."""

from __future__ import annotations

import json

import httpx
import pytest

from exchange.errors import ConfigError, TransientError
from exchange.registry_client import SchemaNotFoundError, SchemaRegistryClient

SCHEMA = '{"type": "string"}'


class FakeRegistryHttp:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail_next: int | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:  # noqa: PLR0911 - one answer per route
        self.calls.append((request.method, request.url.path))
        if self.fail_next is not None:
            status, self.fail_next = self.fail_next, None
            return httpx.Response(status, json={"error_code": status * 100, "message": "boom"})
        path = request.url.path
        if request.method == "POST" and path.endswith("/versions"):
            return httpx.Response(200, json={"id": 7})
        if path == "/schemas/ids/7":
            return httpx.Response(200, json={"schema": SCHEMA})
        if path.startswith("/schemas/ids/"):
            return httpx.Response(404, json={"error_code": 40403, "message": "Schema not found"})
        if request.method == "POST" and path == "/subjects/t-value":
            return httpx.Response(200, json={"subject": "t-value", "id": 7, "version": 1, "schema": SCHEMA})
        if path == "/subjects/t-value/versions/latest":
            return httpx.Response(200, json={"subject": "t-value", "id": 7, "version": 3, "schema": SCHEMA})
        if path == "/config/t-value" and request.method == "GET":
            return httpx.Response(200, json={"compatibilityLevel": "FULL_TRANSITIVE"})
        if path == "/config" and request.method == "PUT":
            return httpx.Response(200, json=json.loads(request.content))
        return httpx.Response(404, json={"error_code": 40401, "message": "Subject not found"})


@pytest.fixture
def http() -> FakeRegistryHttp:
    return FakeRegistryHttp()


@pytest.fixture
def client(http: FakeRegistryHttp) -> SchemaRegistryClient:
    return SchemaRegistryClient("http://registry.invalid:8081", transport=httpx.MockTransport(http))


def test_register_and_get_are_cached(client: SchemaRegistryClient, http: FakeRegistryHttp) -> None:
    assert client.register("t-value", SCHEMA) == 7
    assert client.register("t-value", SCHEMA) == 7
    assert client.get_schema(7) == SCHEMA  # known from registering
    assert http.calls == [("POST", "/subjects/t-value/versions")]


def test_unknown_id_is_fetched_once(client: SchemaRegistryClient, http: FakeRegistryHttp) -> None:
    for _ in range(50):
        with pytest.raises(SchemaNotFoundError):
            client.get_schema(404)
    assert http.calls == [("GET", "/schemas/ids/404")]


def test_lookup_latest_and_config(client: SchemaRegistryClient) -> None:
    found = client.lookup("t-value", SCHEMA)
    assert found is not None
    assert found.id == 7
    assert client.lookup("other-value", SCHEMA) is None
    assert client.latest_version("t-value").version == 3
    assert client.get_compatibility("t-value") == "FULL_TRANSITIVE"
    assert client.set_compatibility("BACKWARD") == "BACKWARD"


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_transient(
    client: SchemaRegistryClient, http: FakeRegistryHttp, status: int
) -> None:
    http.fail_next = status
    with pytest.raises(TransientError):
        client.get_schema(7)
    assert client.get_schema(7) == SCHEMA  # the failure was not cached


@pytest.mark.parametrize(
    ("status", "error_code", "hint"),
    [
        (401, 40101, "MAIS_SCHEMA_REGISTRY_USERNAME"),
        (403, 40301, "MAIS_SCHEMA_REGISTRY_USERNAME"),
        (409, 409, "incompatible"),
        (422, 42201, "invalid"),
    ],
)
def test_refusals_a_person_must_fix_are_config_errors_with_what_to_do(
    status: int, error_code: int, hint: str
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error_code": error_code, "message": "refused"})

    client = SchemaRegistryClient("http://registry.test", transport=httpx.MockTransport(refuse))
    with pytest.raises(ConfigError) as caught:
        client.register("t-value", SCHEMA)
    assert str(status) in caught.value.message
    assert hint in (caught.value.hint or "")


@pytest.mark.parametrize(
    "answer",
    [
        {"error_code": 42205, "message": "Subject t-value is in read-only mode"},
        {"error_code": 42205, "message": "Operation not permitted"},
    ],
)
def test_read_only_mode_is_transient(answer: dict[str, object]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json=answer)

    client = SchemaRegistryClient("http://registry.test", transport=httpx.MockTransport(refuse))
    with pytest.raises(TransientError, match="read-only"):
        client.register("t-value", SCHEMA)


def test_unreachable_registry_is_transient() -> None:
    client = SchemaRegistryClient("http://127.0.0.1:9", timeout_s=0.5)
    with pytest.raises(TransientError) as caught:
        client.get_schema(1)
    assert caught.value.hint


def test_url_must_be_http() -> None:
    with pytest.raises(ConfigError):
        SchemaRegistryClient("registry:8081")
