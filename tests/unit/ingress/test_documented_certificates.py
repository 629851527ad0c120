"""The openssl commands in docs/runtime.md make certificates a listener and a sender can use."""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

from adapters.hl7v2 import acknowledge
from exchange.ingress import IngressSettings, Sender, build_gate
from exchange.mllp import MllpDecoder, frame
from exchange.runtime._mllp_listener import MllpListener

DOCS = Path(__file__).resolve().parents[3] / "docs" / "runtime.md"
MSG = b"MSH|^~\\&|EMIS|Y99001|MAIS|LA202|20240301101500||ADT^A28|C1|P|2.4\rPID|1||1^^^Y99001^MR\r"


def _documented_commands() -> str:
    blocks = re.findall(r"```sh\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.DOTALL)
    (commands,) = [block for block in blocks if "openssl req -x509" in block]
    return str(commands)


def test_documented_openssl_commands_make_a_working_listener_and_sender(tmp_path: Path) -> None:
    assert shutil.which("openssl"), "the openssl tool is missing: bash scripts/install-openssl.sh"
    subprocess.run(["sh", "-e", "-c", _documented_commands()], cwd=tmp_path, check=True, capture_output=True)
    pki = tmp_path / "pki"
    settings = IngressSettings(
        tls_cert=pki / "server.crt",
        tls_key=pki / "server.key",
        tls_client_ca=pki / "ca.crt",
        allowed_clients=("gp-emis=DNS:gp.example",),  # type: ignore[arg-type]  # parsed by the model
    )
    delivered: list[Sender | None] = []
    gate = build_gate(settings, "mllp", "127.0.0.1", 0)
    with MllpListener(
        lambda m, o, s: delivered.append(s), acknowledge, "127.0.0.1", 0, gate=gate
    ) as listener:
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(pki / "gp.crt", pki / "gp.key")
        with (
            socket.create_connection(listener.address, timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as conn,
        ):
            conn.sendall(frame(MSG))
            decoder = MllpDecoder()
            acks = []
            while not acks:
                acks = [a for a in decoder.feed(conn.recv(65536)) if isinstance(a, bytes)]
    assert b"MSA|AA|C1" in acks[0]
    assert delivered == [Sender("gp-emis", "certificate")]
