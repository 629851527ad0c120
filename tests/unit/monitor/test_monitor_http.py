"""The monitor's HTTP surface with a stand-in engine: validation of replay requests, JSON and metrics."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from exchange.ops import ReplayRequest
from services.monitor import build_app
from services.monitor._cluster import ClusterSnapshot
from services.monitor._ops import OpsLedger
from services.monitor._view import build_view


class FakeOps:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[str]]] = []

    def request_replay(self, agency: str, adapter: str, entries: list[str]) -> ReplayRequest:
        self.sent.append((agency, adapter, entries))
        return ReplayRequest("r1", adapter, tuple(entries), 0.0)


class FakeMonitor:
    version = 1

    def __init__(self) -> None:
        self.ops = FakeOps()

    def view(self) -> dict[str, Any]:
        return build_view(ClusterSnapshot(ok=True, brokers=1), OpsLedger(), [], quiet_after_s=60)

    def wait_change(self, version: int, timeout_s: float) -> int:
        return self.version


def _client() -> tuple[TestClient, FakeMonitor]:
    monitor = FakeMonitor()
    return TestClient(build_app(monitor, manage=False)), monitor  # type: ignore[arg-type]


def test_a_replay_request_is_validated_then_sent_to_the_agencys_ops_topic() -> None:
    client, monitor = _client()
    for bad in (
        {"agency": "Not An Agency", "adapter": "hl7v2", "entries": ["0:1"]},
        {"agency": "gp-practice", "adapter": "hl7v2", "entries": ["0:1; DROP"]},
        {"agency": "gp-practice", "adapter": "hl7v2", "entries": []},
        {"agency": "gp-practice", "adapter": "../x y", "entries": ["0:1"]},
        {"agency": "gp-practice"},
    ):
        assert client.post("/api/replay", json=bad).status_code == 400, bad
    assert monitor.ops.sent == []
    good = {"agency": "gp-practice", "adapter": "hl7v2", "entries": ["0:1", "2:15"]}
    sent = client.post("/api/replay", json=good)
    assert sent.status_code == 202 and sent.json() == {"request_id": "r1", "status": "requested"}
    assert monitor.ops.sent == [("gp-practice", "hl7v2", ["0:1", "2:15"])]


def test_page_api_probes_and_metrics() -> None:
    client, _ = _client()
    page = client.get("/")
    assert page.status_code == 200 and "Operator's monitor" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/monitor.js").status_code == 200
    assert client.get("/api/overview").json()["broker"]["brokers"] == 1
    assert client.get("/readyz").status_code == 200
    assert "mais_monitor_brokers 1.0" in client.get("/metrics").text
