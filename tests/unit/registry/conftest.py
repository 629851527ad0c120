from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from registry_memlog import SharedLog
from starlette.testclient import TestClient

from services.registry import RegistrySettings, create_app


@pytest.fixture
def shared_log() -> SharedLog:
    return SharedLog()


@pytest.fixture
def make_client(shared_log: SharedLog) -> Iterator[Callable[..., TestClient]]:
    """A registry app over the in-memory log, driven by Starlette's test client."""
    clients: list[TestClient] = []

    def make(**settings: object) -> TestClient:
        app = create_app(RegistrySettings(**settings), log=shared_log.view())  # type: ignore[arg-type]
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
