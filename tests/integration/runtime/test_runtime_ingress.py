"""Only the agency's own systems can feed an adapter: TLS and sender authentication over real sockets,
with the real runtime writing to a real broker and registry.

HTTP push over TLS with bearer tokens, and HL7 v2 over MLLP-over-TLS with client certificates:
allowed senders are answered (202 / AA) and their events are in Kafka naming them
(``ce_authtype``/``ce_authid``, ``mais_dlq_sender``); every other sender — no token, a wrong one,
no certificate, a certificate from another CA or not on the allowlist, a plaintext client — is
refused and nothing of theirs reaches Kafka or the DLQ; a slow-loris client is cut off within its
limit while others are served; tokens and key passphrases never reach the logs or metrics.
"""

from __future__ import annotations

import io
import json
import socket
import ssl
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import runtime_people_adapter as people
import structlog
from ingress_pki import Issued, TestPki
from runtime_it_helpers import FAMILY, GIVEN, people_lines, person_id, read_all, wait_for

from adapters.hl7v2 import adapter as hl7v2
from exchange.adapter import AdapterContext
from exchange.ingress import IngressSettings, TokenFile
from exchange.localkafka import free_port
from exchange.logging import configure_logging
from exchange.mllp import MllpDecoder, frame
from exchange.registry_client import SchemaRegistryClient
from exchange.runtime import (
    ListenerSource,
    LoadedAdapter,
    RunOptions,
    StopSignal,
    resolve_adapter,
    run_adapter,
)
from exchange.runtime._replay import read_dlq
from exchange.samples import generate
from exchange.settings import KafkaSettings

pytestmark = pytest.mark.integration

PASSPHRASE = "Hx7-ingress-passphrase-never-logged"
NO_PID = (
    b"MSH|^~\\&|EMIS|Y99001|MAIS|LA999|20240101120000||ADT^A04^ADT_A01|NOPID0001|P|2.4\r"
    b"EVN|A04|20240101120000\r"
)


class Running:
    """``run_adapter`` on a thread, with its metrics port and a capture of its JSON log."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.log = io.StringIO()
        self.stop = StopSignal()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            run_adapter(self.options, self.stop)
        except BaseException as exc:  # shown by wait_ready, not lost on the thread
            self.error = exc

    def __enter__(self) -> Running:
        configure_logging("INFO", stream=self.log)
        self.thread.start()

        def ready() -> bool:
            assert self.error is None, repr(self.error)
            try:
                with urllib.request.urlopen(f"{self.metrics_url}/readyz", timeout=1) as answer:  # noqa: S310 - http://127.0.0.1
                    return bool(answer.status == 200)
            except OSError:
                return False

        wait_for(ready, 90, "the adapter to be ready")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.stop()
        self.thread.join(60)
        structlog.reset_defaults()
        assert not self.thread.is_alive()

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.options.metrics_port}"

    def metrics(self) -> str:
        with urllib.request.urlopen(f"{self.metrics_url}/metrics", timeout=5) as answer:  # noqa: S310 - ours
            return str(answer.read().decode())

    def refused(self, reason: str) -> float:
        for line in self.metrics().splitlines():
            if line.startswith("mais_ingress_refused_total{") and f'reason="{reason}"' in line:
                return float(line.rsplit(" ", 1)[1])
        return 0.0


def _options(
    agency: str, kafka_bootstrap: str, schema_registry_url: str, source: ListenerSource, **kw: Any
) -> RunOptions:
    return RunOptions(
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        registry=SchemaRegistryClient(schema_registry_url),
        agency=agency,
        source=source,
        instance_id="it",
        metrics_port=free_port(),
        **kw,
    )


def _people_over_http(
    agency: str, kafka_bootstrap: str, schema_registry_url: str, port: int, ingress: IngressSettings
) -> RunOptions:
    """The test people adapter behind an ``http:`` source on loopback, with ``ingress``."""
    return _options(
        agency,
        kafka_bootstrap,
        schema_registry_url,
        ListenerSource("http", "127.0.0.1", port),
        adapter=LoadedAdapter(people.adapter, people.schemas.__getitem__),
        ingress=ingress,
    )


def _headers(message: Any) -> dict[str, bytes]:
    return {name: bytes(value) for name, value in message.headers() or []}


def _assert_secrets_absent(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, "a secret reached the logs or metrics"
    for name in GIVEN + FAMILY:
        assert name not in text, f"a test person's name reached the logs or metrics: {name}"


@pytest.fixture
def pki(tmp_path: Path) -> TestPki:
    return TestPki(tmp_path / "pki")


def test_http_push_over_tls_takes_only_senders_with_a_valid_token(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, pki: TestPki, tmp_path: Path
) -> None:
    server = pki.server()
    tokens = tmp_path / "senders.tokens"
    gp_token, pas_token = TokenFile(tokens).add("gp-emis"), TokenFile(tokens).add("pas")
    wrong_token = "mais_" + "Q" * 43
    port = free_port()
    ingress = IngressSettings(
        tls_cert=server.cert_path,
        tls_key=server.key_path,
        token_file=tokens,
        header_timeout_s=2,
        read_timeout_s=5,
    )
    options = _people_over_http(agency, kafka_bootstrap, schema_registry_url, port, ingress)
    lines = people_lines(140, poison_every=25)
    url = f"https://127.0.0.1:{port}/records"
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(pki.ca.cert_path)), timeout=60)

    def post(first: int, last: int, token: str | None, key: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if key:
            headers["Idempotency-Key"] = key
        return client.post(url, content=b"\n".join(lines[first:last]), headers=headers)

    with Running(options) as running:
        first = post(0, 50, gp_token, "batch-1")
        assert (first.status_code, first.json()) == (202, {"records": 50, "events": 48, "rejected": 2})
        # The same key from another sender is that sender's own unit; from the same sender, a resend.
        assert post(50, 100, pas_token, "batch-1").status_code == 202
        again = post(0, 50, gp_token, "batch-1")
        assert (again.status_code, again.json()) == (200, {"duplicate": True})

        # Refused: no token, a wrong one, another scheme; nothing of lines 100-109 is stored.
        missing = post(100, 110, None)
        assert missing.status_code == 401
        assert missing.headers["WWW-Authenticate"] == 'Bearer realm="mais-exchange"'
        wrong = post(100, 110, wrong_token)
        assert wrong.status_code == 401
        assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
        assert wrong_token not in wrong.text
        assert post(100, 110, "not-even-a-token").status_code == 401
        basic = client.post(url, content=lines[100], headers={"Authorization": "Basic Z3A6cGFzcw=="})
        assert basic.status_code == 401
        with pytest.raises(httpx.TransportError):  # a plaintext client against the TLS listener
            httpx.post(url.replace("https:", "http:"), content=lines[100], timeout=10)

        # Answered from the headers alone: a 10 MB body announced but never sent is not waited for.
        with _tls_socket(port, pki) as raw:
            raw.sendall(b"POST /records HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
            started = time.monotonic()
            answer = raw.recv(4096)
            assert answer.startswith(b"HTTP/1.0 401 ")
            assert time.monotonic() - started < 1.5

        # Too large for the limit: answered from the headers too, even for a known sender.
        with _tls_socket(port, pki) as raw:
            raw.sendall(
                b"POST /records HTTP/1.1\r\nHost: x\r\nContent-Length: 17000000\r\n"
                + f"Authorization: Bearer {gp_token}\r\n\r\n".encode()
            )
            assert raw.recv(4096).startswith(b"HTTP/1.0 413 ")

        # A slow-loris client is cut off after header_timeout_s; another sender is served meanwhile.
        loris = _tls_socket(port, pki)
        loris_started = time.monotonic()
        cut: list[float] = []
        headers = b"POST /records HTTP/1.1\r\nHost: x\r\n"
        threading.Thread(target=_trickle, args=(loris, headers, cut), daemon=True).start()
        assert post(110, 120, gp_token).status_code == 202
        wait_for(lambda: bool(cut), 10, "the slow sender to be cut off")
        assert 1.8 < cut[0] - loris_started < 5.0

        # Rotation without a restart: a new sender's token works, a revoked one stops working.
        # (An empty body with a good token is a 400, with a bad one a 401: the token is checked first.)
        lab_token = TokenFile(tokens).add("lab")
        wait_for(lambda: post(0, 0, lab_token).status_code == 400, 10, "the new token to be accepted")
        assert post(120, 130, lab_token, "lab-1").status_code == 202
        TokenFile(tokens).revoke("pas")
        wait_for(lambda: post(0, 0, pas_token).status_code == 401, 10, "the revoked token to be refused")
        assert post(130, 140, pas_token).status_code == 401

        assert running.refused("missing_token") >= 3
        assert running.refused("invalid_token") >= 3
        assert running.refused("plaintext") == 1
        assert running.refused("slow_sender") == 1
        metrics = running.metrics()
        assert 'mais_ingress_authenticated_total{adapter="people-csv",agency="' in metrics
    log = running.log.getvalue()

    sent = {"gp-emis": [*lines[0:50], *lines[110:120]], "pas": lines[50:100], "lab": lines[120:130]}
    want = {
        line.split(b",")[0].decode(): who for who, mine in sent.items() for line in mine if b"/" not in line
    }
    poison = sorted((who, "token") for who, mine in sent.items() for line in mine if b"/" in line)
    outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=len(want))
    senders = {person_id(m): _headers(m)["ce_authid"].decode() for m in outputs}
    assert senders == want  # every accepted record once, named after its sender; nothing refused
    assert Counter(_headers(m)["ce_authtype"] for m in outputs) == {b"api_key": len(want)}
    dlq = read_dlq(options.kafka, agency)
    assert (
        sorted((e.sender or "", e.sender_auth or "") for e in dlq)
        == poison
        == [
            ("gp-emis", "token"),
            ("gp-emis", "token"),
            ("lab", "token"),
            ("pas", "token"),
            ("pas", "token"),
        ]
    )
    _assert_secrets_absent(log + metrics, [gp_token, pas_token, lab_token, wrong_token])
    assert '"reason": "missing_token"' in log


def _tls_socket(port: int, pki: TestPki, cert: Issued | None = None) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(pki.ca.cert_path))
    if cert is not None:
        context.load_cert_chain(cert.cert_path, cert.key_path)
    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def _trickle(sock: socket.socket, data: bytes, cut: list[float]) -> None:
    """Send ``data`` a byte every 0.2 s; note when the listener cut the connection."""
    try:
        for byte in data:
            sock.sendall(bytes([byte]))
            time.sleep(0.2)
        sock.settimeout(30)
        while sock.recv(100):
            pass
    except OSError:
        pass
    cut.append(time.monotonic())
    sock.close()


def _mllp(sock: socket.socket, message: bytes) -> str | None:
    """Send one framed message: the ACK code (MSA-1), or ``None`` if the connection was closed unanswered."""
    decoder = MllpDecoder()
    try:
        sock.sendall(frame(message))
        while chunk := sock.recv(65536):
            for item in decoder.feed(chunk):
                assert isinstance(item, bytes)
                msa = next(s for s in item.split(b"\r") if s.startswith(b"MSA|"))
                return msa.split(b"|")[1].decode()
    except OSError:
        pass
    return None


def _refused_mllp(port: int, pki: TestPki, cert: Issued | None, message: bytes) -> bool:
    try:
        sock = _tls_socket(port, pki, cert)
    except OSError:
        return True  # the handshake failed
    with sock:
        return _mllp(sock, message) is None


@pytest.fixture
def hl7_messages(tmp_path: Path) -> Iterator[list[tuple[bytes, set[str]]]]:
    """Sample ADT messages of a GP system, each with the record keys of its events."""
    generate(tmp_path / "samples", people=30, seed=7)
    feed = (tmp_path / "samples" / "hl7" / "gp_adt.hl7").read_bytes()
    context = AdapterContext(agency="gp-practice", organisation_id="Y99001")
    yield [(r.data, {e.key for e in hl7v2.translate(r, context)}) for r in hl7v2.split(feed, "feed")]


def test_mllp_over_tls_takes_only_allowed_client_certificates(  # noqa: PLR0917 - pytest fixtures
    kafka_bootstrap: str,
    schema_registry_url: str,
    agency: str,
    pki: TestPki,
    tmp_path: Path,
    hl7_messages: list[tuple[bytes, set[str]]],
) -> None:
    server = pki.server(passphrase=PASSPHRASE)  # an encrypted key: its passphrase must never be logged
    gp = pki.issue("gp", dns=("gp.example",))
    stranger = pki.issue("stranger", dns=("stranger.example",))  # right CA, not on the allowlist
    impostor = TestPki(tmp_path / "other", "other").issue("impostor", dns=("gp.example",))
    port = free_port()
    options = _options(
        agency,
        kafka_bootstrap,
        schema_registry_url,
        ListenerSource("mllp", "127.0.0.1", port),
        adapter=resolve_adapter("hl7v2"),
        organisation_id="Y99001",
        ingress=IngressSettings(
            tls_cert=server.cert_path,
            tls_key=server.key_path,
            tls_key_passphrase=PASSPHRASE,  # type: ignore[arg-type]  # pydantic makes it a SecretStr
            tls_client_ca=pki.ca.cert_path,
            allowed_clients=["gp-emis=DNS:gp.example"],  # type: ignore[arg-type]  # parsed by the model
            read_timeout_s=2,
        ),
    )
    accepted = hl7_messages[:6]
    accepted_keys = set().union(*(keys for _, keys in accepted))
    others = [(m, k) for m, k in hl7_messages[6:] if k and not k & accepted_keys][:6]
    assert len(others) == 6
    refused_keys = set().union(*(keys for _, keys in others))

    with Running(options) as running:
        with _tls_socket(port, pki, gp) as connection:
            assert [_mllp(connection, m) for m, _ in accepted[:5]] == ["AA"] * 5
            assert _mllp(connection, NO_PID) == "AE"  # read, rejected, in the DLQ with its sender

        assert _refused_mllp(port, pki, None, others[0][0])  # no client certificate
        assert _refused_mllp(port, pki, impostor, others[1][0])  # the right name, another CA
        assert _refused_mllp(port, pki, stranger, others[2][0])  # the right CA, not on the allowlist
        with socket.create_connection(("127.0.0.1", port), timeout=20) as plain:
            assert _mllp(plain, others[3][0]) is None  # plaintext MLLP against the TLS listener

        # A sender trickling a message is cut off after read_timeout_s; the GP system is served meanwhile.
        loris = _tls_socket(port, pki, gp)
        started = time.monotonic()
        cut: list[float] = []
        threading.Thread(target=_trickle, args=(loris, frame(others[4][0]), cut), daemon=True).start()
        with _tls_socket(port, pki, gp) as connection:
            assert _mllp(connection, accepted[5][0]) == "AA"
        wait_for(lambda: bool(cut), 10, "the slow sender to be cut off")
        assert 1.8 < cut[0] - started < 5.0

        for reason in ("no_client_certificate", "untrusted_certificate", "sender_not_allowed", "plaintext"):
            assert running.refused(reason) == 1, reason
        assert running.refused("slow_sender") == 1
        metrics = running.metrics()
    log = running.log.getvalue()

    outputs = [
        m
        for entity in ("person", "episode")
        for m in read_all(kafka_bootstrap, f"mais.{agency}.{entity}.v1", timeout_s=30)
    ]
    keys = {bytes(m.key()).decode() for m in outputs}
    assert keys == accepted_keys
    assert not keys & refused_keys
    assert {(_headers(m)["ce_authtype"], _headers(m)["ce_authid"]) for m in outputs} == {
        (b"service_account", b"gp-emis")
    }
    (rejected,) = read_dlq(options.kafka, agency)
    assert (rejected.value, rejected.sender, rejected.sender_auth) == (NO_PID, "gp-emis", "certificate")
    assert rejected.origin.startswith("mllp/gp-emis:EMIS.Y99001:NOPID0001:")
    _assert_secrets_absent(log + metrics, [PASSPHRASE])
    assert json.loads(log.splitlines()[0])  # the log was captured (JSON lines)


def test_http_push_with_client_certificates_and_tokens_needs_both_to_name_one_sender(
    kafka_bootstrap: str, schema_registry_url: str, agency: str, pki: TestPki, tmp_path: Path
) -> None:
    server = pki.server()
    gp = pki.issue("gp", dns=("gp.example",))
    stranger = pki.issue("stranger", dns=("stranger.example",))
    tokens = tmp_path / "senders.tokens"
    gp_token, pas_token = TokenFile(tokens).add("gp-emis"), TokenFile(tokens).add("pas")
    port = free_port()
    ingress = IngressSettings(
        tls_cert=server.cert_path,
        tls_key=server.key_path,
        tls_client_ca=pki.ca.cert_path,
        allowed_clients=["gp-emis=DNS:gp.example", "pas=DNS:pas.example"],  # type: ignore[arg-type]
        token_file=tokens,
    )
    options = _people_over_http(agency, kafka_bootstrap, schema_registry_url, port, ingress)
    lines = people_lines(40)
    url = f"https://127.0.0.1:{port}/records"

    def post(cert: Issued | None, token: str, first: int) -> int:
        context = ssl.create_default_context(cafile=str(pki.ca.cert_path))
        if cert is not None:
            context.load_cert_chain(cert.cert_path, cert.key_path)
        headers = {"Authorization": f"Bearer {token}"}
        try:
            with httpx.Client(verify=context, timeout=60) as client:
                return client.post(
                    url, content=b"\n".join(lines[first : first + 10]), headers=headers
                ).status_code
        except httpx.TransportError:
            return 0  # refused during the TLS handshake

    with Running(options) as running:
        assert post(gp, gp_token, 0) == 202
        assert post(gp, pas_token, 10) == 403  # a good certificate and a good token of different senders
        assert post(stranger, gp_token, 20) == 403  # a good token, a certificate nobody is allowed with
        assert post(None, gp_token, 30) == 0  # no client certificate: the handshake fails
        for reason in ("sender_mismatch", "sender_not_allowed", "no_client_certificate"):
            assert running.refused(reason) == 1, reason

    outputs = read_all(kafka_bootstrap, f"mais.{agency}.person.v1", expect=10)
    assert sorted(person_id(m) for m in outputs) == [line.split(b",")[0].decode() for line in lines[:10]]
    assert {(_headers(m)["ce_authtype"], _headers(m)["ce_authid"]) for m in outputs} == {
        (b"service_account", b"gp-emis")
    }
    assert read_dlq(options.kafka, agency) == []
