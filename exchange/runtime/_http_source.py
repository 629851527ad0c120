"""HTTP push: a sender POSTs a unit of records; the answer comes only after the broker committed them.

``POST /records`` with the unit as the body (any content type the adapter's ``split`` reads) and
an optional ``Idempotency-Key`` header (letters, digits, ``._:-``, at most 128 characters;
default: a hash of the body). The request waits while the push loop (:mod:`._push`) processes it
in a Kafka transaction that also records the key on ``mais.<agency>.progress.v1``. Answers:

* ``202`` with ``{"records", "events", "rejected"}`` — committed (rejects are in the DLQ);
* ``200`` with ``{"duplicate": true}`` — this key was committed before; nothing was written again;
* ``413`` body too large, ``400`` bad key or no body, ``503`` stopping or not committed in time:
  the sender retries with the same key, and nothing is lost or written twice.

Every connection first passes the listener's :class:`~exchange.ingress.IngressGate` (TLS
handshake and client certificate, if configured, on the connection's own thread), and every
request is authorised from its headers alone — ``401`` without a valid bearer token, ``403`` for
a certificate not on the allowlist — before a byte of its body is read. Headers must arrive
within ``header_timeout_s`` and the body within ``read_timeout_s``: a sender that trickles
bytes is cut off, while the others are served on their own threads.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from exchange.errors import PrerequisiteError
from exchange.ingress import Connection, IngressGate, Refused
from exchange.runtime._context import LoopContext
from exchange.runtime._push import IDEMPOTENCY_KEY, Outcome, PushLoop

__all__ = ["HttpSourceLoop"]

_MAX_BODY = 16 * 2**20

_REFUSED = {
    "missing_token": "a bearer token is needed: Authorization: Bearer <token>",
    "invalid_token": "the bearer token is not valid",
}


class HttpSourceLoop:
    """Runs one adapter behind an HTTP endpoint until stopped."""

    def __init__(self, ctx: LoopContext, host: str, port: int, gate: IngressGate | None = None) -> None:
        self.push = PushLoop(ctx, "http")
        self.gate = gate or IngressGate("http")
        self.transactional_id = self.push.transactional_id
        try:
            self._server = ThreadingHTTPServer((host, port), self._handler())
        except OSError as exc:
            raise PrerequisiteError(
                f"cannot listen on {host}:{port} ({exc.strerror})", hint="choose a free port in --source"
            ) from None
        self._server.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def run(self) -> None:
        self.push.run(self._start, self._stop)

    def _start(self) -> str:
        threading.Thread(target=self._server.serve_forever, name="http-source", daemon=True).start()
        return f"port {self.port}{' (HTTPS)' if self.gate.tls else ''}"

    def _stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        push, gate = self.push, self.gate
        limits = gate.settings

        class Handler(BaseHTTPRequestHandler):
            connection_: Connection
            server_version = "mais-exchange"  # not the Python version: tells an attacker nothing
            sys_version = ""

            def setup(self) -> None:
                pass  # the streams exist only once the gate has admitted the connection (handle)

            def handle(self) -> None:
                with gate.connection(self.request, self.client_address) as admitted:
                    if admitted is None:
                        return  # refused at the TLS handshake: counted, closed
                    self.connection_ = admitted
                    self.rfile = admitted.reader()
                    self.wfile = admitted.sock.makefile("wb")
                    admitted.deadline.start(limits.header_timeout_s)
                    with contextlib.suppress(OSError):  # timeouts and resets end this connection only
                        self.handle_one_request()  # HTTP/1.0: one request per connection
                        self.wfile.flush()
                    with contextlib.suppress(OSError):
                        self.wfile.close()

            def finish(self) -> None:
                pass  # the gate closes the connection

            def do_POST(self) -> None:
                try:
                    sender = gate.authorize(self.connection_, self.headers.get("Authorization"))
                except Refused as refused:
                    self._refuse(refused)
                    return
                if self.path.split("?")[0] != "/records":
                    self._answer(404, {"error": "POST to /records"})
                    return
                self.connection_.deadline.start(limits.read_timeout_s)  # for the body, however it is read
                length = _content_length(self.headers.get("Content-Length"))
                if length <= 0:
                    self._answer(400, {"error": "empty body, or a Content-Length that is not a number"})
                    return
                if length > _MAX_BODY:
                    self._answer(413, {"error": f"body larger than {_MAX_BODY} bytes"})
                    return
                body = self.rfile.read(length)
                if len(body) < length:
                    return  # the sender went away
                key = self.headers.get("Idempotency-Key") or hashlib.sha256(body).hexdigest()
                if not IDEMPOTENCY_KEY.match(key):
                    self._answer(400, {"error": "Idempotency-Key: letters, digits and ._:- (at most 128)"})
                    return
                request = push.submit(body, key, sender=sender)
                if request.outcome is Outcome.DUPLICATE:
                    self._answer(200, {"duplicate": True})
                elif request.outcome is Outcome.COMMITTED and request.result is not None:
                    result = request.result
                    answer = {
                        "records": result.records,
                        "events": len(result.outputs),
                        "rejected": len(result.rejects),
                    }
                    self._answer(202, answer)
                else:
                    self._answer(503, {"error": "not committed; retry with the same Idempotency-Key"})

            def _refuse(self, refused: Refused) -> None:
                """Answer from the headers alone; the body is never read, the connection closes."""
                headers = {"Connection": "close"}
                if refused.status == 401:
                    error = ', error="invalid_token"' if refused.reason == "invalid_token" else ""
                    headers["WWW-Authenticate"] = f'Bearer realm="mais-exchange"{error}'
                message = _REFUSED.get(refused.reason, "this sender is not allowed")
                self._answer(refused.status, {"error": message}, headers)

            def _answer(
                self, status: int, answer: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def _content_length(value: str | None) -> int:
    """The declared body length; -1 when it is not a number (answered 400, never a traceback)."""
    try:
        return int(value or 0)
    except ValueError:
        return -1
