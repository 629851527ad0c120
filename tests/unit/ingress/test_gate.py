"""The ingress gate in front of a real MLLP listener on loopback, over real TLS sockets.

A store stands in for the runtime behind the listener (the integration tests run the real
runtime with Kafka): what matters here is who gets through, what they are recorded as, and
that every refusal is counted by reason with nothing delivered.
"""

from __future__ import annotations

import io
import json
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import structlog
from ingress_pki import Issued, TestPki
from prometheus_client import CollectorRegistry

from adapters.hl7v2 import acknowledge, parse_message
from exchange.errors import ConfigError
from exchange.ingress import IngressGate, IngressMetrics, IngressSettings, Sender, build_gate, check_exposure
from exchange.logging import configure_logging, get_logger
from exchange.mllp import MllpDecoder, frame
from exchange.runtime._mllp_listener import MllpListener

ANYWHERE = "0.0.0.0"  # noqa: S104 - the point of these tests: an address beyond loopback
MSG = b"MSH|^~\\&|PAS|RX1|MAIS|LA202|20240301101500||ADT^A28|C%d|P|2.4\rPID|1||%d^^^RX1^MR\r"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def certs(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Issued]:
    other = TestPki(tmp_path_factory.mktemp("other-ca"), "other")
    return {
        "server": pki.server(),
        "gp": pki.issue("gp", dns=("gp.example",)),
        "pas": pki.issue("pas", common_name="pas.hospital.example"),
        "stranger": pki.issue("stranger", dns=("stranger.example",)),
        "expired": pki.issue("expired-gp", dns=("gp.example",), expired=True),
        "other-ca": other.issue("impostor", dns=("gp.example",)),
    }


class Store:
    def __init__(self) -> None:
        self.delivered: list[tuple[bytes, Sender | None]] = []
        self.lock = threading.Lock()

    def __call__(self, message: bytes, origin: str, sender: Sender | None) -> None:
        with self.lock:
            self.delivered.append((message, sender))


@dataclass
class Served:
    store: Store
    port: int
    registry: CollectorRegistry
    log: io.StringIO

    def refused(self, reason: str) -> float:
        value = self.registry.get_sample_value(
            "mais_ingress_refused_total",
            {"adapter": "hl7v2", "agency": "gp-practice", "listener": "mllp", "reason": reason},
        )
        return value or 0.0


def _serve(pki: TestPki, certs: dict[str, Issued], **limits: float) -> Iterator[Served]:
    settings = IngressSettings(
        tls_cert=certs["server"].cert_path,
        tls_key=certs["server"].key_path,
        tls_client_ca=pki.ca.cert_path,
        allowed_clients=("gp-emis=DNS:gp.example", "pas=CN:pas.hospital.example"),  # type: ignore[arg-type]
        **limits,  # type: ignore[arg-type]
    )
    registry = CollectorRegistry()
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    metrics = type("M", (), {"registry": registry, "adapter": "hl7v2", "agency": "gp-practice"})()
    gate = build_gate(settings, "mllp", "127.0.0.1", 0, metrics=metrics, log=get_logger("test"))  # type: ignore[arg-type]
    store = Store()
    with MllpListener(store, acknowledge, "127.0.0.1", 0, gate=gate) as listener:
        yield Served(store, listener.address[1], registry, stream)
    structlog.reset_defaults()


@pytest.fixture
def served(pki: TestPki, certs: dict[str, Issued]) -> Iterator[Served]:
    yield from _serve(pki, certs, handshake_timeout_s=2, read_timeout_s=1.5, idle_timeout_s=30)


def _client_context(pki: TestPki, cert: Issued | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca.cert_path))
    if cert is not None:
        context.load_cert_chain(cert.cert_path, cert.key_path)
    return context


def _tls(port: int, pki: TestPki, cert: Issued | None, **kw: object) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    context = _client_context(pki, cert)
    for name, value in kw.items():
        setattr(context, name, value)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def _attempt(port: int, pki: TestPki, cert: Issued | None, **kw: object) -> str | None:
    """Connect with TLS and send one message: the ACK code, or ``None`` if refused at any point."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1, asked for on purpose
            sock = _tls(port, pki, cert, **kw)
    except (ssl.SSLError, OSError):
        return None  # refused during the handshake, as the client sees it
    return _exchange(sock, MSG % (9, 9))


def _exchange(sock: socket.socket, message: bytes) -> str | None:
    """Send one frame; the ACK's MSA-1, or ``None`` if the listener closed without answering."""
    decoder = MllpDecoder()
    try:
        sock.sendall(frame(message))
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            for item in decoder.feed(chunk):
                assert isinstance(item, bytes)
                msa = parse_message(item).first("MSA")
                assert msa is not None
                return msa.value(1)
    except (ssl.SSLError, OSError):
        return None
    finally:
        sock.close()


def _refused(attempt: object) -> None:
    """Whatever the client saw, it was not an acknowledgement."""
    assert attempt is None


def test_allowed_senders_are_acknowledged_and_recorded_by_name(
    pki: TestPki, certs: dict[str, Issued], served: Served
) -> None:
    assert _exchange(_tls(served.port, pki, certs["gp"]), MSG % (1, 1)) == "AA"
    assert _exchange(_tls(served.port, pki, certs["pas"]), MSG % (2, 2)) == "AA"
    assert served.store.delivered == [
        (MSG % (1, 1), Sender("gp-emis", "certificate")),
        (MSG % (2, 2), Sender("pas", "certificate")),
    ]
    assert (
        served.registry.get_sample_value(
            "mais_ingress_authenticated_total",
            {"adapter": "hl7v2", "agency": "gp-practice", "listener": "mllp", "sender": "gp-emis"},
        )
        == 1.0
    )


def test_every_other_sender_is_refused_by_reason_and_nothing_is_delivered(
    pki: TestPki, certs: dict[str, Issued], served: Served
) -> None:
    _refused(_attempt(served.port, pki, None))
    _refused(_attempt(served.port, pki, certs["other-ca"]))
    _refused(_attempt(served.port, pki, certs["expired"]))
    _refused(_attempt(served.port, pki, certs["stranger"]))
    _refused(_exchange(socket.create_connection(("127.0.0.1", served.port), timeout=10), MSG % (9, 9)))
    _refused(_attempt(served.port, pki, certs["gp"], maximum_version=ssl.TLSVersion.TLSv1_1))
    time.sleep(0.3)  # the listener threads count their refusal after the client saw it
    assert served.store.delivered == []
    reasons = ("no_client_certificate", "untrusted_certificate", "sender_not_allowed", "plaintext")
    assert {reason: served.refused(reason) for reason in (*reasons, "handshake_failed")} == {
        "no_client_certificate": 1.0,
        "untrusted_certificate": 2.0,  # another CA, and an expired certificate of the right one
        "sender_not_allowed": 1.0,
        "plaintext": 1.0,
        "handshake_failed": 1.0,
    }  # fmt: skip
    logged = [json.loads(line) for line in served.log.getvalue().splitlines()]
    logged_reasons = {line.get("reason") for line in logged if line["event"] == "sender refused"}
    assert set(reasons) <= logged_reasons


def test_a_slow_sender_is_cut_off_while_others_are_served(
    pki: TestPki, certs: dict[str, Issued], served: Served
) -> None:
    slow = _tls(served.port, pki, certs["gp"])
    started = time.monotonic()
    cut_after: list[float] = []

    def trickle() -> None:
        try:
            for byte in frame(MSG % (3, 3)):
                slow.sendall(bytes([byte]))
                time.sleep(0.1)  # 10 bytes a second: the message would take ~10 s
        except OSError:
            pass
        cut_after.append(time.monotonic() - started)

    threading.Thread(target=trickle, daemon=True).start()
    time.sleep(0.3)
    assert _exchange(_tls(served.port, pki, certs["pas"]), MSG % (4, 4)) == "AA"  # served meanwhile
    slow.settimeout(10)
    try:
        closed = slow.recv(100) == b""
    except (ssl.SSLError, OSError):
        closed = True
    waited = time.monotonic() - started
    assert closed
    assert 1.4 < waited < 4.0  # read_timeout_s is 1.5 s for the whole message
    assert [m for m, _ in served.store.delivered] == [MSG % (4, 4)]
    assert served.refused("slow_sender") == 1.0


def test_a_stalled_handshake_is_cut_off(pki: TestPki, served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as raw:
        raw.sendall(b"\x16\x03\x01")  # the start of a ClientHello, then nothing
        started = time.monotonic()
        assert raw.recv(100) == b""
        assert 1.8 < time.monotonic() - started < 4.0  # handshake_timeout_s is 2 s
    time.sleep(0.2)
    assert served.refused("slow_sender") == 1.0


def test_connections_beyond_the_limit_are_closed_at_once(pki: TestPki, certs: dict[str, Issued]) -> None:
    for served in _serve(pki, certs, max_connections=2):
        held = [_tls(served.port, pki, certs["gp"]) for _ in range(2)]
        time.sleep(0.3)
        _refused(_attempt(served.port, pki, certs["gp"]))
        for sock in held:
            sock.close()
        time.sleep(0.3)
        assert _exchange(_tls(served.port, pki, certs["gp"]), MSG % (6, 6)) == "AA"
        assert served.refused("too_many_connections") == 1.0


def test_plain_listeners_beyond_loopback_need_insecure(
    pki: TestPki, certs: dict[str, Issued], tmp_path: Path
) -> None:
    plain = IngressSettings.model_construct()
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.5"):
        assert check_exposure(plain, "http", host, 8080) is None
    with pytest.raises(
        ConfigError, match=r"http:0\.0\.0\.0:8080 would accept records from any machine"
    ) as caught:
        check_exposure(plain, "http", ANYWHERE, 8080)
    assert caught.value.message.endswith("it has no TLS and sender authentication")
    hint = caught.value.hint or ""
    assert "--tls-cert" in hint and "--token-file" in hint and "--insecure" in hint
    with pytest.raises(ConfigError, match="no TLS and sender authentication") as caught:
        check_exposure(plain, "mllp", ANYWHERE, 2575)
    assert "--token-file" not in (caught.value.hint or "")  # MLLP senders use certificates
    server = certs["server"]
    tls_only = IngressSettings(tls_cert=server.cert_path, tls_key=server.key_path)
    with pytest.raises(ConfigError, match="it has no sender authentication"):
        check_exposure(tls_only, "mllp", ANYWHERE, 2575)
    tokens = tmp_path / "tokens"
    with pytest.raises(ConfigError, match=r"it has no TLS$"):
        check_exposure(IngressSettings(token_file=tokens), "http", ANYWHERE, 8080)
    secured = IngressSettings(tls_cert=server.cert_path, tls_key=server.key_path, token_file=tokens)
    assert check_exposure(secured, "http", ANYWHERE, 8080) is None
    warning = check_exposure(IngressSettings(insecure=True), "http", ANYWHERE, 8080)
    assert warning is not None and "without TLS and sender authentication (--insecure)" in warning
    with pytest.raises(ConfigError, match="for http: sources"):
        build_gate(IngressSettings(token_file=tokens), "mllp", "127.0.0.1", 2575)


def test_a_plain_gate_lets_loopback_senders_in_unnamed() -> None:
    store = Store()
    with MllpListener(store, acknowledge, "127.0.0.1", 0, gate=IngressGate("mllp")) as listener:
        assert _exchange(socket.create_connection(listener.address, timeout=10), MSG % (7, 7)) == "AA"
    assert store.delivered == [(MSG % (7, 7), None)]


def test_refusal_counters_start_at_zero_for_every_reason() -> None:
    registry = CollectorRegistry()
    IngressMetrics(registry, "hl7v2", "gp-practice", "mllp")
    labels = {"adapter": "hl7v2", "agency": "gp-practice", "listener": "mllp", "reason": "slow_sender"}
    assert registry.get_sample_value("mais_ingress_refused_total", labels) == 0.0
