"""HTTP push: a sender POSTs a unit of records; the answer comes only after the broker committed them.

``POST /records`` with the unit as the body (any content type the adapter's ``split`` reads) and
an optional ``Idempotency-Key`` header (letters, digits, ``._:-``, at most 128 characters;
default: a hash of the body). The request waits while the main loop processes it in a Kafka
transaction that also records the key on ``mais.<agency>.progress.v1``. Answers:

* ``202`` with ``{"records", "events", "rejected"}`` — committed (rejects are in the DLQ);
* ``200`` with ``{"duplicate": true}`` — this key was committed before; nothing was written again;
* ``413`` body too large, ``400`` bad key or no body, ``503`` stopping or not committed in time:
  the sender retries with the same key, and nothing is lost or written twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from exchange.errors import PrerequisiteError, TransientError
from exchange.runtime._context import LoopContext
from exchange.runtime._control import Backoff, retry_transient
from exchange.runtime._dlq import Reject
from exchange.runtime._pipeline import UnitResult
from exchange.runtime._progress import Progress, ProgressStore
from exchange.runtime._txn import PermanentDeliveryError, TransactionalWriter, TransactionFencedError
from exchange.topics import progress_topic

__all__ = ["HttpSourceLoop"]

_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_MAX_BODY = 16 * 2**20
_REPLY_TIMEOUT_S = 60.0


@dataclass
class _Request:
    body: bytes
    key: str
    done: threading.Event = field(default_factory=threading.Event)
    status: int = 503
    answer: dict[str, Any] = field(default_factory=dict)


class HttpSourceLoop:
    """Runs one adapter behind an HTTP endpoint until stopped."""

    def __init__(self, ctx: LoopContext, host: str, port: int) -> None:
        self.ctx = ctx
        self.transactional_id = f"mais-adapter.{ctx.agency}.{ctx.adapter_name}.http.{ctx.instance_id}"
        self.progress = ProgressStore(ctx.kafka, progress_topic(ctx.agency), ctx.adapter_name)
        self._queue: queue.Queue[_Request] = queue.Queue(maxsize=1000)
        self._accepting = False
        try:
            self._server = ThreadingHTTPServer((host, port), self._handler())
        except OSError as exc:
            raise PrerequisiteError(
                f"cannot listen on {host}:{port} ({exc.strerror})", hint="choose a free port in --source"
            ) from None
        self._server.daemon_threads = True
        self._backoff = Backoff()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def run(self) -> None:
        ctx = self.ctx
        writer = TransactionalWriter(ctx.kafka, self.transactional_id)
        retry_transient(writer.init, ctx.stop, on_retry=ctx.log_retry)
        retry_transient(self.progress.ensure_topic, ctx.stop, on_retry=ctx.log_retry)
        retry_transient(self.progress.load, ctx.stop, on_retry=ctx.log_retry)
        self._accepting = True
        thread = threading.Thread(target=self._server.serve_forever, name="http-source", daemon=True)
        thread.start()
        ctx.health.set(ready=True, reason=f"listening on port {self.port}")
        ctx.log.info("adapter listening", port=self.port, transactional_id=self.transactional_id)
        try:
            while not ctx.stop.requested():
                batch = self._take_batch()
                if batch:
                    self._process(writer, batch)
        finally:
            self._accepting = False
            ctx.health.set(ready=False, reason="stopping")
            self._server.shutdown()
            self._server.server_close()
            with contextlib.suppress(TransientError, TransactionFencedError):
                writer.abort()
            writer.flush()
            while not self._queue.empty():
                self._queue.get_nowait().done.set()  # answered 503: the sender retries
        ctx.log.info("adapter stopped", port=self.port)

    def _take_batch(self) -> list[_Request]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < 100:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _process(self, writer: TransactionalWriter, batch: list[_Request]) -> None:
        ctx = self.ctx
        poisoned: set[str] = set()
        while not ctx.stop.requested():
            started = time.monotonic()
            try:
                results = self._transaction(writer, batch, poisoned)
            except PermanentDeliveryError as refused:
                poisoned |= refused.tags
                writer.abort()
                continue
            except TransientError as error:
                ctx.metrics.retried("produce")
                ctx.log.warning("transaction aborted; requests will be retried", error=error.message)
                writer.abort()
                ctx.stop.wait(self._backoff.next_delay())
                continue
            self._backoff.reset()
            committed = [result for _, result in results if result is not None]
            ctx.metrics.records_in("http", len(committed))
            ctx.count_committed(committed, started)
            self._answer_all(results)
            return
        for request in batch:
            request.done.set()  # stopping: 503, the sender retries later

    def _transaction(
        self, writer: TransactionalWriter, batch: list[_Request], poisoned: set[str]
    ) -> list[tuple[_Request, UnitResult | None]]:
        """One transaction for the batch; ``None`` marks a request already committed before."""
        results: list[tuple[_Request, UnitResult | None]] = []
        seen: set[str] = set()
        writer.begin()
        for request in batch:
            if self.progress.get(request.key).complete or request.key in seen:
                results.append((request, None))
                continue
            seen.add(request.key)
            origin = f"http/{request.key}"
            if origin in poisoned:
                refused = Reject(
                    "produce", "MessageRefused", "the broker refused an output", request.body, origin
                )
                result = UnitResult(rejects=[refused])
            else:
                result = self.ctx.pipeline.process_unit(request.body, origin)
            self.ctx.write_result(writer, result, origin, key=None, headers=None)
            marker = Progress(done=result.records, complete=True).encode()
            writer.produce(self.progress.topic, self.progress.key(request.key), marker, [], origin)
            results.append((request, result))
        writer.commit()
        return results

    def _answer_all(self, results: list[tuple[_Request, UnitResult | None]]) -> None:
        for request, result in results:
            if result is None:
                request.status, request.answer = 200, {"duplicate": True}
            else:
                self.progress.set(request.key, Progress(result.records, True))
                request.status = 202
                request.answer = {
                    "records": result.records,
                    "events": len(result.outputs),
                    "rejected": len(result.rejects),
                }
            request.done.set()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        loop = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path.split("?")[0] != "/records":
                    self._answer(404, {"error": "POST to /records"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length <= 0:
                    self._answer(400, {"error": "empty body"})
                    return
                if length > _MAX_BODY:
                    self._answer(413, {"error": f"body larger than {_MAX_BODY} bytes"})
                    return
                body = self.rfile.read(length)
                key = self.headers.get("Idempotency-Key") or hashlib.sha256(body).hexdigest()
                if not _KEY.match(key):
                    self._answer(400, {"error": "Idempotency-Key: letters, digits and ._:- (at most 128)"})
                    return
                request = _Request(body, key)
                if not loop._accepting:
                    self._answer(503, {"error": "not ready; retry with the same Idempotency-Key"})
                    return
                try:
                    loop._queue.put(request, timeout=5)
                except queue.Full:
                    self._answer(503, {"error": "busy; retry with the same Idempotency-Key"})
                    return
                request.done.wait(_REPLY_TIMEOUT_S)
                if request.status == 503:
                    request.answer = {"error": "not committed; retry with the same Idempotency-Key"}
                self._answer(request.status, request.answer)

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
