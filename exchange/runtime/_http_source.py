"""HTTP push: a sender POSTs a unit of records; the answer comes only after the broker committed them.

``POST /records`` with the unit as the body (any content type the adapter's ``split`` reads) and
an optional ``Idempotency-Key`` header (letters, digits, ``._:-``, at most 128 characters;
default: a hash of the body). The request waits while the push loop (:mod:`._push`) processes it
in a Kafka transaction that also records the key on ``mais.<agency>.progress.v1``. Answers:

* ``202`` with ``{"records", "events", "rejected"}`` — committed (rejects are in the DLQ);
* ``200`` with ``{"duplicate": true}`` — this key was committed before; nothing was written again;
* ``413`` body larger than ``max_unit_bytes``: read (never held) and refused as one reject, a
  DLQ stub with its size and SHA-256, committed under the key like any unit;
* ``400`` bad key or no body, ``503`` stopping or not committed in time: the sender retries with
  the same key, and nothing is lost or written twice.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from exchange.errors import PrerequisiteError
from exchange.runtime._context import LoopContext
from exchange.runtime._dlq import Reject
from exchange.runtime._push import IDEMPOTENCY_KEY, Outcome, PushLoop, PushRequest

__all__ = ["HttpSourceLoop"]


class HttpSourceLoop:
    """Runs one adapter behind an HTTP endpoint until stopped."""

    def __init__(self, ctx: LoopContext, host: str, port: int) -> None:
        self.push = PushLoop(ctx, "http")
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
        return f"port {self.port}"

    def _stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        push = self.push
        limit = push.ctx.settings.max_unit_bytes

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path.split("?")[0] != "/records":
                    self._answer(404, {"error": "POST to /records"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length <= 0:
                    self._answer(400, {"error": "empty body"})
                    return
                if length > limit:
                    self._refuse_too_large(length)
                    return
                body = self.rfile.read(length)
                key = self.headers.get("Idempotency-Key") or hashlib.sha256(body).hexdigest()
                if not IDEMPOTENCY_KEY.fullmatch(key):
                    self._answer(400, {"error": "Idempotency-Key: letters, digits and ._:- (at most 128)"})
                    return
                self._answer_outcome(push.submit(body, key))

            def _refuse_too_large(self, length: int) -> None:
                """Read the body as a stream (hashing it, keeping nothing) and record one reject."""
                digest = hashlib.sha256()
                left = length
                while left > 0:
                    block = self.rfile.read(min(left, 1 << 20))
                    if not block:
                        return  # the sender hung up: nothing to record
                    digest.update(block)
                    left -= len(block)
                key = self.headers.get("Idempotency-Key") or digest.hexdigest()
                if not IDEMPOTENCY_KEY.fullmatch(key):
                    self._answer(400, {"error": "Idempotency-Key: letters, digits and ._:- (at most 128)"})
                    return
                message = f"body of {length} bytes is larger than the unit limit of {limit} bytes"
                origin = f"{push.kind}/{key}"
                reject = Reject(
                    "read", "UnitTooLarge", message, b"", origin, True, length, digest.hexdigest()
                )
                request = push.submit(b"", key, too_large=reject)
                if request.outcome in (Outcome.COMMITTED, Outcome.DUPLICATE):
                    self._answer(413, {"error": f"body larger than {limit} bytes", "rejected": 1})
                else:
                    self._answer(503, {"error": "not committed; retry with the same Idempotency-Key"})

            def _answer_outcome(self, request: PushRequest) -> None:
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

            def _answer(self, status: int, answer: dict[str, Any]) -> None:
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
