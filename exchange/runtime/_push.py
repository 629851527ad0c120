"""Push sources: senders hand units over and wait until the broker committed them.

One loop serves every push front end (HTTP, MLLP). A front end calls :meth:`PushLoop.submit`
from its own connection thread with the unit's bytes and an idempotency key and waits; the main
loop takes what is queued, processes it in one Kafka transaction that also writes each key's
progress marker on ``mais.<agency>.progress.v1``, and only after the commit answers the waiting
threads. A key committed before is answered as a duplicate and written nothing again, so a
sender that retries after a lost answer never causes a second copy.

When the listener authenticated the sender (:class:`~exchange.ingress.Sender`), its name scopes
the key (two senders that both call a unit ``batch-1`` never shadow each other) and is recorded
with the unit: in the envelope of its events and in the headers of its rejects.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from exchange.errors import TransientError
from exchange.ingress import Sender
from exchange.runtime._context import LoopContext
from exchange.runtime._control import Backoff, retry_transient
from exchange.runtime._dlq import Reject
from exchange.runtime._pipeline import UnitResult
from exchange.runtime._progress import Progress, ProgressStore
from exchange.runtime._txn import PermanentDeliveryError, TransactionalWriter, TransactionFencedError
from exchange.topics import client_id, progress_topic

__all__ = ["IDEMPOTENCY_KEY", "Outcome", "PushLoop", "PushRequest"]

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
"""What an idempotency key may look like (it names a progress record; never personal data)."""


class Outcome(Enum):
    PENDING = "pending"  # not committed (stopping, busy, timed out): the sender retries
    COMMITTED = "committed"
    DUPLICATE = "duplicate"


@dataclass
class PushRequest:
    """One unit handed over by a front end, and what became of it."""

    body: bytes
    key: str
    sender: Sender | None = None
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome = Outcome.PENDING
    result: UnitResult | None = None


class PushLoop:
    """The queue and transaction loop behind a push front end (``kind`` is ``http`` or ``mllp``)."""

    def __init__(self, ctx: LoopContext, kind: str, *, reply_timeout_s: float = 60.0) -> None:
        self.ctx = ctx
        self.kind = kind
        self.transactional_id = client_id(ctx.agency, "adapter", ctx.adapter_name, kind, ctx.instance_id)
        self.progress = ProgressStore(ctx.kafka, progress_topic(ctx.agency), ctx.adapter_name)
        self.reply_timeout_s = reply_timeout_s
        self._queue: queue.Queue[PushRequest] = queue.Queue(maxsize=1000)
        self._accepting = False
        self._backoff = Backoff()

    def submit(self, body: bytes, key: str, *, sender: Sender | None = None) -> PushRequest:
        """Queue a unit and wait for its outcome (``PENDING`` if not committed in time)."""
        request = PushRequest(body, f"{sender.name}:{key}" if sender else key, sender)
        if not self._accepting:
            return request
        try:
            self._queue.put(request, timeout=5)
        except queue.Full:
            return request
        request.done.wait(self.reply_timeout_s)
        return request

    def run(self, start_front: Callable[[], str], stop_front: Callable[[], None]) -> None:
        """Serve until stopped: ``start_front`` opens the front end and says where it listens."""
        ctx = self.ctx
        writer = TransactionalWriter(ctx.kafka, self.transactional_id)
        retry_transient(writer.init, ctx.stop, on_retry=ctx.log_retry)
        retry_transient(self.progress.ensure_topic, ctx.stop, on_retry=ctx.log_retry)
        retry_transient(self.progress.load, ctx.stop, on_retry=ctx.log_retry)
        self._accepting = True
        where = start_front()
        ctx.health.set(ready=True, reason=f"listening on {where}")
        ctx.log.info("adapter listening", source_kind=self.kind, transactional_id=self.transactional_id)
        try:
            while not ctx.stop.requested():
                batch = self._take_batch()
                if batch:
                    self._process(writer, batch)
        finally:
            self._accepting = False
            ctx.health.set(ready=False, reason="stopping")
            stop_front()
            with contextlib.suppress(TransientError, TransactionFencedError):
                writer.abort()
            writer.flush()
            while not self._queue.empty():
                self._queue.get_nowait().done.set()  # left pending: the sender retries
        ctx.log.info("adapter stopped", source_kind=self.kind)

    def _take_batch(self) -> list[PushRequest]:
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

    def _process(self, writer: TransactionalWriter, batch: list[PushRequest]) -> None:
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
            ctx.metrics.records_in(self.kind, sum(result.records for result in committed))
            ctx.count_committed(committed, started)
            self._answer_all(results)
            return
        for request in batch:
            request.done.set()  # stopping: left pending, the sender retries later

    def _transaction(
        self, writer: TransactionalWriter, batch: list[PushRequest], poisoned: set[str]
    ) -> list[tuple[PushRequest, UnitResult | None]]:
        """One transaction for the batch; ``None`` marks a request already committed before."""
        results: list[tuple[PushRequest, UnitResult | None]] = []
        seen: set[str] = set()
        writer.begin()
        for request in batch:
            if self.progress.get(request.key).complete or request.key in seen:
                results.append((request, None))
                continue
            seen.add(request.key)
            origin = f"{self.kind}/{request.key}"
            if origin in poisoned:
                refused = Reject(
                    "produce", "MessageRefused", "the broker refused an output", request.body, origin
                )
                result = UnitResult(rejects=[refused])
            else:
                result = self.ctx.pipeline.process_unit(request.body, origin, sender=request.sender)
            self.ctx.write_result(writer, result, origin, key=None, headers=None, sender=request.sender)
            marker = Progress(done=result.records, complete=True).encode()
            writer.produce(self.progress.topic, self.progress.key(request.key), marker, [], origin)
            results.append((request, result))
        writer.commit()
        return results

    def _answer_all(self, results: list[tuple[PushRequest, UnitResult | None]]) -> None:
        for request, result in results:
            if result is None:
                request.outcome = Outcome.DUPLICATE
            else:
                self.progress.set(request.key, Progress(result.records, True))
                request.outcome, request.result = Outcome.COMMITTED, result
            request.done.set()
