"""The runtime's MLLP listener over real TCP on loopback, answering with the HL7 v2 adapter's ACKs:
ACK codes, many clients, broken clients."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from adapters.hl7v2 import acknowledge, parse_message
from exchange.errors import DataError, TransientError
from exchange.ingress import IngressGate, IngressSettings, Sender
from exchange.mllp import MllpDecoder, frame
from exchange.runtime._mllp_listener import MllpListener

MSG = b"MSH|^~\\&|PAS|RX1|MAIS|LA202|20240301101500||ADT^A28|C%d|P|2.4\rPID|1||%d^^^RX1^MR\r"


class Store:
    """Stands in for the runtime: records what was delivered, or fails on request."""

    def __init__(self) -> None:
        self.delivered: list[tuple[bytes, str]] = []
        self.senders: list[Sender | None] = []
        self.fail_with: Exception | None = None
        self.lock = threading.Lock()

    def __call__(self, message: bytes, origin: str, sender: Sender | None) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        with self.lock:
            self.delivered.append((message, origin))
            self.senders.append(sender)


@pytest.fixture
def served() -> Iterator[tuple[Store, tuple[str, int]]]:
    store = Store()
    gate = IngressGate("mllp", IngressSettings(idle_timeout_s=10))
    with MllpListener(store, acknowledge, "127.0.0.1", 0, max_frame=4096, gate=gate) as listener:
        yield store, listener.address


def _ask(address: tuple[str, int], *messages: bytes) -> list[bytes]:
    decoder = MllpDecoder()
    answers: list[bytes] = []
    with socket.create_connection(address, timeout=10) as conn:
        for sent, message in enumerate(messages, start=1):
            conn.sendall(frame(message))
            while len(answers) < sent:  # wait for this message's ACK before the next one
                answers.extend(a for a in decoder.feed(conn.recv(65536)) if isinstance(a, bytes))
    return answers


def _msa(ack: bytes) -> tuple[str, str, str]:
    msa = parse_message(ack).first("MSA")
    assert msa is not None
    return msa.value(1), msa.value(2), msa.value(3)


def test_aa_after_delivery_with_the_control_id(served: tuple[Store, tuple[str, int]]) -> None:
    store, address = served
    (ack,) = _ask(address, MSG % (1, 1))
    assert _msa(ack) == ("AA", "C1", "")
    assert store.delivered[0][0] == MSG % (1, 1)
    assert store.delivered[0][1].endswith("#1")
    assert store.senders == [None]  # no authentication on this loopback listener


def test_ae_with_the_reason_when_the_message_is_rejected(served: tuple[Store, tuple[str, int]]) -> None:
    store, address = served
    store.fail_with = DataError("PID-7 is not a valid HL7 date", stage="map")
    (ack,) = _ask(address, MSG % (2, 2))
    assert _msa(ack) == ("AE", "C2", "PID-7 is not a valid HL7 date")


def test_ar_when_nothing_could_be_stored(served: tuple[Store, tuple[str, int]]) -> None:
    store, address = served
    store.fail_with = TransientError("broker unavailable")
    (ack,) = _ask(address, MSG % (3, 3))
    code, control, text = _msa(ack)
    assert (code, control) == ("AR", "C3")
    assert "send it again" in text


def test_ar_for_frames_that_are_not_hl7_or_too_large(served: tuple[Store, tuple[str, int]]) -> None:
    store, address = served
    store.fail_with = DataError("message does not start with an MSH segment", stage="parse")
    not_hl7, too_large = _ask(address, b"hello", b"MSH|" + b"x" * 5000)
    assert _msa(not_hl7)[0] == "AR"
    assert _msa(too_large)[0] == "AR"


def test_many_connections_at_once_each_in_order(served: tuple[Store, tuple[str, int]]) -> None:
    store, address = served
    results: dict[int, list[str]] = {}

    def client(n: int) -> None:
        acks = _ask(address, *(MSG % (n * 100 + i, n) for i in range(5)))
        results[n] = [_msa(a)[1] for a in acks]

    threads = [threading.Thread(target=client, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == {n: [f"C{n * 100 + i}" for i in range(5)] for n in range(1, 9)}
    assert len(store.delivered) == 40


def test_a_client_that_hangs_up_mid_message_delivers_nothing_and_harms_no_one(
    served: tuple[Store, tuple[str, int]],
) -> None:
    store, address = served
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(frame(MSG % (9, 9))[:40])
    (ack,) = _ask(address, MSG % (10, 10))
    assert _msa(ack)[0] == "AA"
    assert [m for m, _ in store.delivered] == [MSG % (10, 10)]
