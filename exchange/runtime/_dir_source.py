"""File drop: ingest files that appear in a directory, exactly once, then move them to ``done/``.

A file is ready when its name does not start with ``.`` and does not end with ``.tmp``,
``.part`` or ``.partial``, it matches the adapter's file patterns, and it has not changed for
``settle_s`` seconds (writers should write under a temporary name and rename into place). Its
records are produced in transactions of ``batch_size`` records, each carrying the file's
progress (see :mod:`._progress`); once the last transaction committed — the broker has
acknowledged everything — the file is moved to ``done/``: that is the acknowledgement to the
sender. After a crash the file is resumed after its last committed record.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
import time
from pathlib import Path

from exchange.adapter import SourceRecord
from exchange.errors import TransientError
from exchange.runtime._context import LoopContext
from exchange.runtime._control import Backoff, retry_transient
from exchange.runtime._dlq import Reject
from exchange.runtime._pipeline import UnitResult
from exchange.runtime._progress import Progress, ProgressStore
from exchange.runtime._txn import PermanentDeliveryError, TransactionalWriter, TransactionFencedError
from exchange.topics import client_id, progress_topic

__all__ = ["DirectorySourceLoop"]

_PARTIAL_SUFFIXES = (".tmp", ".part", ".partial")
_DONE = "done"


class DirectorySourceLoop:
    """Runs one adapter on one drop directory until stopped."""

    def __init__(self, ctx: LoopContext, path: Path, *, poll_s: float = 0.5, settle_s: float = 0.5) -> None:
        self.ctx = ctx
        self.path = path
        self.done_dir = path / _DONE
        self.poll_s = poll_s
        self.settle_s = settle_s
        self.transactional_id = client_id(ctx.agency, "adapter", ctx.adapter_name, "dir", ctx.instance_id)
        self.progress = ProgressStore(ctx.kafka, progress_topic(ctx.agency), ctx.adapter_name)
        self._poisoned: set[str] = set()
        self._backoff = Backoff()

    def run(self) -> None:
        ctx = self.ctx
        self.done_dir.mkdir(parents=True, exist_ok=True)
        writer = TransactionalWriter(ctx.kafka, self.transactional_id)
        # init fences a crashed predecessor and aborts its open transaction before progress is read
        retry_transient(writer.init, ctx.stop, on_retry=ctx.log_retry)
        retry_transient(self.progress.ensure_topic, ctx.stop, on_retry=ctx.log_retry)
        known = retry_transient(self.progress.load, ctx.stop, on_retry=ctx.log_retry)
        ctx.health.set(ready=True, reason=f"watching directory ({known} file(s) in progress history)")
        ctx.log.info(
            "adapter watching directory", path=str(self.path), transactional_id=self.transactional_id
        )
        try:
            while not ctx.stop.requested():
                files = self._ready_files()
                for file in files:
                    if ctx.stop.requested():
                        break
                    self._ingest(writer, file)
                if not files:
                    ctx.stop.wait(self.poll_s)
        finally:
            ctx.health.set(ready=False, reason="stopping")
            with contextlib.suppress(TransientError, TransactionFencedError):
                writer.abort()
            writer.flush()
        ctx.log.info("adapter stopped", path=str(self.path))

    def _ready_files(self) -> list[Path]:
        now = time.time()
        patterns = self.ctx.pipeline.adapter.file_patterns
        ready = []
        for entry in os.scandir(self.path):
            name = entry.name
            if not entry.is_file() or name.startswith(".") or name.endswith(_PARTIAL_SUFFIXES):
                continue
            if not any(fnmatch.fnmatch(name, pattern) for pattern in patterns):
                continue
            if now - entry.stat().st_mtime >= self.settle_s:
                ready.append(Path(entry.path))
        return sorted(ready, key=lambda p: (p.stat().st_mtime, p.name))

    def _ingest(self, writer: TransactionalWriter, file: Path) -> None:
        try:
            data = file.read_bytes()
        except OSError as error:  # removed or unreadable since it was listed: try again next scan
            self.ctx.log.warning("cannot read dropped file", file=file.name, error_class=type(error).__name__)
            return
        unit_id = f"{file.name}#{hashlib.sha256(data).hexdigest()[:32]}"
        state = self.progress.get(unit_id)
        if not state.complete:
            split = self.ctx.pipeline.split(data, file.name)
            if isinstance(split, Reject):
                if not self._commit_chunk(writer, unit_id, [], 0, whole_unit=split):
                    return
            else:
                start = state.done
                while start < len(split):
                    chunk = split[start : start + self.ctx.batch_size]
                    if not self._commit_chunk(writer, unit_id, chunk, start, total=len(split)):
                        return  # stopping: resume from the committed progress next time
                    start += len(chunk)
                if not split:
                    self._commit_chunk(writer, unit_id, [], 0, total=0)
        self._move_to_done(file, unit_id)

    def _commit_chunk(
        self,
        writer: TransactionalWriter,
        unit_id: str,
        chunk: list[SourceRecord],
        start: int,
        *,
        total: int = 0,
        whole_unit: Reject | None = None,
    ) -> bool:
        """Produce one chunk and its progress in one transaction, retrying until done or stopped."""
        ctx = self.ctx
        end = start + len(chunk)
        progress = Progress(
            done=total if whole_unit else end, complete=whole_unit is not None or end >= total
        )
        while True:
            started = time.monotonic()
            results: list[UnitResult] = []
            try:
                writer.begin()
                if whole_unit is not None:
                    results.append(UnitResult(rejects=[whole_unit]))
                    ctx.write_result(writer, results[0], f"{unit_id}:unit", key=None, headers=None)
                for index, record in enumerate(chunk, start):
                    results.append(self._process_record(writer, record, f"{unit_id}:{index}"))
                writer.produce(
                    self.progress.topic, self.progress.key(unit_id), progress.encode(), [], "progress"
                )
                writer.commit()
            except PermanentDeliveryError as refused:
                self._poisoned |= refused.tags
                writer.abort()
                continue
            except TransientError as error:
                ctx.metrics.retried("produce")
                ctx.log.warning("transaction aborted; chunk will be retried", error=error.message)
                writer.abort()
                if ctx.stop.wait(self._backoff.next_delay()):
                    return False
                continue
            self._backoff.reset()
            self.progress.set(unit_id, progress)
            ctx.metrics.records_in("dir", len(chunk) or 1)
            ctx.count_committed(results, started)
            return True

    def _process_record(self, writer: TransactionalWriter, record: SourceRecord, tag: str) -> UnitResult:
        result = UnitResult()
        if tag in self._poisoned:
            result.records = 1
            result.rejects.append(
                Reject(
                    "produce", "MessageRefused", "the broker refused an output", record.data, record.origin
                )
            )
        else:
            self.ctx.pipeline.process_record(record, None, result)
        self.ctx.write_result(writer, result, tag, key=None, headers=None)
        return result

    def _move_to_done(self, file: Path, unit_id: str) -> None:
        target = self.done_dir / file.name
        if target.exists():
            target = self.done_dir / f"{file.name}.{unit_id.rsplit('#', 1)[1][:12]}"
        file.replace(target)
        self.ctx.log.info("file ingested", file=file.name)
