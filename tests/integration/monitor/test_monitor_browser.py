"""The operator's monitor in a real headless Chromium, on the secured exchange, as an operator uses it.

A poison record appears as a reject with its reason without a reload; after the adapter is fixed,
the page's replay action delivers it and the page shows the outcome; and nothing on the page (or
in the API and metrics behind it) matches a name, NHS number or date of birth of the test people.
The monitor runs with the describe-only ``mais-monitor`` principal.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import runtime_people_adapter as people
import uvicorn
from confluent_kafka import Consumer, Producer, TopicPartition
from secure_exchange import SecureExchange

from exchange.adapter import Adapter
from exchange.localkafka import free_port
from exchange.registry_client import SchemaRegistryClient
from exchange.runtime import KafkaSource, LoadedAdapter, RunOptions, StopSignal, run_adapter
from exchange.security import SecurityAdmin
from exchange.topics import TopicSpec, entity_topic
from services.agency import AgencyCredentials
from services.monitor import Monitor, MonitorSettings, build_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GIVEN = ["Amelia", "Oliver", "Isla", "Zainab"]
FAMILY = ["Okonkwo", "Whitfield", "Kowalczyk", "Fairbairn"]


def _people(count: int) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for i in range(count):
        birth = f"2011-0{(i % 9) + 1}-{(i % 27) + 1:02d}"
        rows.append((f"P{i:05d}", GIVEN[i % 4], FAMILY[i % 4], birth, f"943{i:07d}"))
    return rows


class AdapterThread:
    def __init__(self, options: RunOptions) -> None:
        self.stop = StopSignal()
        self.failure: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, args=(options,), daemon=True)
        self.thread.start()

    def _run(self, options: RunOptions) -> None:
        try:
            run_adapter(options, self.stop)
        except BaseException as exc:  # reported by close()
            self.failure.append(exc)

    def close(self) -> None:
        self.stop.stop()
        self.thread.join(60)
        assert not self.thread.is_alive() and not self.failure, self.failure


@pytest.fixture
def agency(secure_exchange: SecureExchange) -> Iterator[tuple[AgencyCredentials, str]]:
    credentials = secure_exchange.add_agency(secure_exchange.new_agency_id("ward"), name="A ward")
    inbox = f"mais.{credentials.agency}.inbox.v1"
    SecurityAdmin(secure_exchange.stack.operator).ensure_topics([TopicSpec(inbox, 1)])
    subject = f"{entity_topic(credentials.agency, 'person')}-{people.SCHEMA_NAME}"
    SchemaRegistryClient.from_settings(secure_exchange.stack.operator_registry).register(
        subject, people.schemas[people.SCHEMA_NAME]
    )
    yield credentials, inbox


def _adapter(credentials: AgencyCredentials, inbox: str, adapter: Adapter) -> AdapterThread:
    return AdapterThread(
        RunOptions(
            adapter=LoadedAdapter(adapter, people.schemas.__getitem__),
            agency=credentials.agency,
            source=KafkaSource(inbox),
            kafka=credentials.kafka,
            registry=SchemaRegistryClient.from_settings(credentials.registry),
            instance_id="ward-1",
            batch_size=50,
            ops_interval_s=1.0,
        )
    )


@pytest.fixture
def monitor_url(secure_exchange: SecureExchange) -> Iterator[str]:
    stack = secure_exchange.stack
    settings = MonitorSettings(kafka=stack.monitor, registry=stack.monitor_registry, refresh_s=1.0)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(build_app(Monitor(settings)), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the monitor did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


def _produce(credentials: AgencyCredentials, topic: str, lines: list[bytes]) -> None:
    producer = Producer({**credentials.kafka.confluent_config(), "enable.idempotence": True})
    for line in lines:
        producer.produce(topic, line, line.split(b",")[0])
    assert producer.flush(30) == 0


def _keys(credentials: AgencyCredentials, topic: str) -> list[str]:
    consumer = Consumer(
        {
            **credentials.kafka.confluent_config(),
            "group.id": credentials.kafka.scratch_group("check"),
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(3)])
    keys = [bytes(m.key()).decode() for m in consumer.consume(1000, 5) if m.error() is None]
    keys += [bytes(m.key()).decode() for m in consumer.consume(1000, 2) if m.error() is None]
    consumer.close()
    return keys


def test_a_poison_record_shows_live_and_the_replay_after_a_fix_delivers_it(
    agency: tuple[AgencyCredentials, str], monitor_url: str, page: Any, screenshot: Any
) -> None:
    credentials, inbox = agency
    rows = _people(30)
    poison_id = rows[11][0]
    lines = [",".join(r).encode() for r in rows]
    day, month = rows[11][3][8:], rows[11][3][5:7]
    lines[11] = f"{poison_id},{rows[11][1]},{rows[11][2]},{day}/{month}/2011,{rows[11][4]}".encode()
    personal = {v for r in rows for v in (r[1], r[2], r[3], r[4])} | {f"{day}/{month}/2011"}

    strict = _adapter(credentials, inbox, people.adapter)
    try:
        page.goto(monitor_url)
        feed = page.locator("#feeds tbody tr", has_text=credentials.agency)
        feed.wait_for(timeout=60_000)
        assert "flowing" not in feed.inner_text()  # nothing has flowed yet: quiet
        _produce(credentials, inbox, lines)
        reject = page.locator("#rejects tbody tr", has_text=credentials.agency)
        reject.wait_for(timeout=60_000)  # arrives through the SSE stream: no reload
        text = reject.inner_text()
        assert "validate" in text and "DataError" in text and "birth_date is not an ISO date" in text
        assert "new" in reject.locator(".status").inner_text()
        page.locator("#reasons tbody tr", has_text=credentials.agency).wait_for(timeout=10_000)
        page.wait_for_function(
            "agency => [...document.querySelectorAll('#feeds tbody tr')].some("
            "r => r.textContent.includes(agency) && r.textContent.includes('flowing'))",
            arg=credentials.agency,
            timeout=60_000,
        )
    finally:
        strict.close()
    assert poison_id not in [
        k.rsplit("|", 1)[1] for k in _keys(credentials, entity_topic(credentials.agency, "person"))
    ]

    fixed = _adapter(credentials, inbox, people.fixed_adapter)  # the fix is deployed
    try:
        reject.locator("input[type=checkbox]").check()
        page.get_by_role("button", name=re.compile("Replay selected")).click()
        page.get_by_text(re.compile("Replay requested for 1 reject")).wait_for(timeout=15_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('#rejects tbody tr .status')]"
            ".some(s => s.textContent === 'delivered')",
            timeout=90_000,
        )
        replay_row = page.locator("#replays tbody tr", has_text=credentials.agency)
        assert "done" in replay_row.inner_text()
        assert replay_row.locator("td").nth(5).inner_text() == "1"  # one event delivered
        shot = screenshot(page, "monitor-replay-delivered")
        assert shot.stat().st_size > 10_000
    finally:
        fixed.close()
    delivered = [k.rsplit("|", 1)[1] for k in _keys(credentials, entity_topic(credentials.agency, "person"))]
    assert delivered.count(poison_id) == 1
    assert len(set(delivered)) == len(rows)

    shown = page.inner_text("body") + page.content()
    behind = httpx.get(f"{monitor_url}/api/overview").text + httpx.get(f"{monitor_url}/metrics").text
    for value in sorted(personal):
        assert value not in shown, f"the page shows personal data ({len(value)} characters)"
        assert value not in behind, "the API or metrics show personal data"
