"""File drop: ingest files that appear in a directory, exactly once, then move them to ``done/``.

A file is ready when its name does not start with ``.`` and does not end with ``.tmp``,
``.part`` or ``.partial``, it matches the adapter's file patterns, and it has not changed for
``settle_s`` seconds (writers should write under a temporary name and rename into place). Its
records are produced in transactions of ``batch_size`` records, each carrying the file's
progress (see :mod:`._progress`); once the last transaction committed — the broker has
acknowledged everything — the file is moved to ``done/``: that is the acknowledgement to the
sender. After a crash the file is resumed after its last committed record.

A file larger than ``max_unit_bytes`` is never read into memory: it is hashed as a stream and
refused as one reject, a DLQ stub pointing at where the file is kept (``done/``). A reject too
large for a Kafka message is also written as a stub with that pointer (see :mod:`._dlq`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
import time
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class _Unit:
    """One dropped file being ingested: its progress id, its records (or one reject), where it goes."""

    id: str
    split: list[SourceRecord] | Reject
    kept: str


class DirectorySourceLoop:
    """Runs one adapter on one drop directory until stopped."""

    def __init__(self, ctx: LoopContext, path: Path, *, poll_s: float = 0.5, settle_s: float = 0.5) -> None:
        self.ctx = ctx
        self.path = path
        self.done_dir = path / _DONE
        self.poll_s = poll_s
        self.settle_s = settle_s
        self.transactional_id = client_id(ctx.agency, "adapter", ctx.adapter_name, "dir", ctx.instance_id)
        # file units are "<name>#<hash>"; push sources' markers on the same topic are not read
        self.progress = ProgressStore(
            ctx.kafka, progress_topic(ctx.agency), ctx.adapter_name, units=lambda unit: "#" in unit
        )
        self._backoff = Backoff()

    def run(self) -> None:
        ctx = self.ctx
        self.done_dir.mkdir(parents=True, exist_ok=True)
        writer = TransactionalWriter(ctx.kafka, self.transactional_id, settings=ctx.settings, stop=ctx.stop)
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
        ctx = self.ctx
        split: list[SourceRecord] | Reject | None = None
        try:
            size = file.stat().st_size
            if size > ctx.settings.max_unit_bytes:
                digest, split = self._too_large(file, size)
            else:
                data = file.read_bytes()
                digest = hashlib.sha256(data).hexdigest()
        except OSError as error:  # removed or unreadable since it was listed: try again next scan
            ctx.log.warning("cannot read dropped file", file=file.name, error_class=type(error).__name__)
            return
        unit_id = f"{file.name}#{digest[:32]}"
        target = self._done_target(file, unit_id)
        if not self.progress.get(unit_id).complete:
            if split is None:
                split = ctx.pipeline.split(data, file.name)
            if not self._commit_unit(writer, _Unit(unit_id, split, str(target))):
                return  # stopping: resume from the committed progress next time
        file.replace(target)
        ctx.log.info("file ingested", file=file.name)

    def _too_large(self, file: Path, size: int) -> tuple[str, Reject]:
        """A file over the unit limit: hashed as a stream (never held in memory), refused as one reject."""
        digest = hashlib.sha256()
        with file.open("rb") as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
        limit = self.ctx.settings.max_unit_bytes
        message = f"file of {size} bytes is larger than the unit limit of {limit} bytes"
        hexdigest = digest.hexdigest()
        return hexdigest, Reject("read", "UnitTooLarge", message, b"", file.name, True, size, hexdigest)

    def _commit_unit(self, writer: TransactionalWriter, unit: _Unit) -> bool:
        """Produce the unit in transactions of ``batch_size`` records, each with its progress.

        Every failed attempt is aborted and retried after a backoff; a retry starts from the
        committed progress (re-read if the producer had to be recreated). False when stopping.
        """
        ctx = self.ctx
        while not ctx.stop.requested():
            state = self.progress.get(unit.id)
            if state.complete:
                return True
            generation = writer.generation
            try:
                self._commit_chunk(writer, unit, state.done)
            except PermanentDeliveryError as refused:
                ctx.refusals.record(refused.tags, ctx.dlq)
                writer.abort()
            except TransientError as error:
                ctx.metrics.retried("produce")
                ctx.log.warning("transaction aborted; chunk will be retried", error=error.message)
                writer.abort()
                if writer.generation != generation:  # did the last commit happen? ask the topic
                    ctx.log.warning("producer recreated; reading the committed progress again")
                    retry_transient(self.progress.load, ctx.stop, on_retry=ctx.log_retry)
            else:
                self._backoff.reset()
                continue
            ctx.stop.wait(self._backoff.next_delay())
        return False

    def _commit_chunk(self, writer: TransactionalWriter, unit: _Unit, start: int) -> None:
        """One transaction: the next chunk's outputs and rejects, and the unit's progress after it."""
        ctx = self.ctx
        started = time.monotonic()
        results: list[UnitResult] = []
        chunk: list[SourceRecord] = []
        writer.begin()
        if isinstance(unit.split, Reject):
            tag = f"{unit.id}:unit"
            whole = unit.split
            result = ctx.refused(tag, whole.data, whole.origin, unit=True) or UnitResult(rejects=[whole])
            ctx.write_result(writer, result, tag, key=None, headers=None, kept=unit.kept)
            results.append(result)
            progress = Progress(done=1, complete=True)
        else:
            chunk = unit.split[start : start + ctx.batch_size]
            for index, record in enumerate(chunk, start):
                tag = f"{unit.id}:{index}"
                result = ctx.refused(tag, record.data, record.origin, unit=False) or UnitResult()
                if not result.rejects:
                    ctx.pipeline.process_record(record, None, result)
                ctx.write_result(writer, result, tag, key=None, headers=None, kept=unit.kept)
                results.append(result)
            end = start + len(chunk)
            progress = Progress(done=end, complete=end >= len(unit.split))
        writer.produce(self.progress.topic, self.progress.key(unit.id), progress.encode(), [], "progress")
        writer.commit()
        ctx.refusals.clear()
        self.progress.set(unit.id, progress)
        ctx.metrics.records_in("dir", len(chunk) or 1)
        ctx.count_committed(results, started)

    def _done_target(self, file: Path, unit_id: str) -> Path:
        """Where the file goes once ingested (its DLQ stubs point there)."""
        target = self.done_dir / file.name
        if target.exists():
            target = self.done_dir / f"{file.name}.{unit_id.rsplit('#', 1)[1][:12]}"
        return target
