"""Basic auth and roles on the registry: agencies read and look up, only the operator registers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from exchange.security import RegistryUsers
from services.registry._auth import reader_may

SCHEMA = '{"type": "record", "name": "T", "fields": [{"name": "a", "type": "string"}]}'


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    users = RegistryUsers(tmp_path / "users.json")
    users.set("admin", "operator", "operator-secret")
    users.set("csc", "reader", "csc-secret")
    users.save()
    return users.path


@pytest.fixture
def secured(make_client: Callable[..., TestClient], users_file: Path) -> TestClient:
    return make_client(users_file=users_file)


def test_no_or_wrong_credentials_get_401_with_a_challenge(secured: TestClient) -> None:
    for auth in (None, ("csc", "wrong"), ("nobody", "csc-secret")):
        response = secured.get("/subjects", auth=auth)
        assert response.status_code == 401
        assert response.json()["error_code"] == 40101
        assert response.headers["www-authenticate"].startswith("Basic")


def test_health_and_metrics_need_no_credentials(secured: TestClient) -> None:
    assert secured.get("/healthz").status_code == 200
    assert secured.get("/metrics").status_code == 200


def test_a_reader_reads_and_looks_up_but_cannot_register_or_configure(secured: TestClient) -> None:
    operator, reader = ("admin", "operator-secret"), ("csc", "csc-secret")
    body = {"schema": SCHEMA}
    registered = secured.post("/subjects/mais.csc.person.v1-T/versions", json=body, auth=operator)
    assert registered.status_code == 200
    assert secured.get("/subjects", auth=reader).json() == ["mais.csc.person.v1-T"]
    looked_up = secured.post("/subjects/mais.csc.person.v1-T", json=body, auth=reader)
    assert looked_up.status_code == 200 and looked_up.json()["id"] == registered.json()["id"]
    for method, path in (
        ("POST", "/subjects/mais.csc.person.v1-T/versions"),
        ("PUT", "/config"),
        ("DELETE", "/subjects/mais.csc.person.v1-T"),
        ("PUT", "/mode"),
    ):
        refused = secured.request(method, path, json=body, auth=reader)
        assert refused.status_code == 403, (method, path)
        assert refused.json()["error_code"] == 40301
    assert secured.get("/subjects", auth=operator).json() == ["mais.csc.person.v1-T"]


def test_an_agency_added_later_is_accepted_without_a_restart(secured: TestClient, users_file: Path) -> None:
    assert secured.get("/subjects", auth=("police", "p-secret")).status_code == 401
    users = RegistryUsers.load(users_file)
    users.set("police", "reader", "p-secret")
    users.save()
    assert secured.get("/subjects", auth=("police", "p-secret")).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", b"/subjects/a%2Fb/versions", True),
        ("POST", b"/subjects/mais.x.person.v1-T", True),
        ("POST", b"/subjects/a%2Fb", True),
        ("POST", b"/compatibility/subjects/s/versions/latest", True),
        ("POST", b"/subjects/s/versions", False),
        ("POST", b"/subjects/s/versions?normalize=true", False),
        ("DELETE", b"/subjects/s", False),
        ("PUT", b"/config/s", False),
    ],
)
def test_what_a_reader_may_do(method: str, path: bytes, allowed: bool) -> None:
    assert reader_may(method, path) is allowed
