"""The standard's own event schemas go into the registry as its subjects' first versions."""

from __future__ import annotations

from starlette.testclient import TestClient

from exchange.schemas import default_repository, event_names


def test_standard_events_register_once_under_full_transitive(client: TestClient) -> None:
    repo = default_repository()
    ids = {}
    for name in event_names():
        response = client.post(f"/subjects/{name}/versions", json={"schema": repo.schema_json(name)})
        assert response.status_code == 200, response.text
        ids[name] = response.json()["id"]
        assert client.get(f"/config/{name}").json() == {"compatibilityLevel": "FULL_TRANSITIVE"}
    assert len(set(ids.values())) == len(ids)
    # loading the standard again changes nothing: same ids, still one version each
    for name in event_names():
        again = client.post(f"/subjects/{name}/versions", json={"schema": repo.schema_json(name)})
        assert again.json() == {"id": ids[name]}
        assert client.get(f"/subjects/{name}/versions").json() == [1]
