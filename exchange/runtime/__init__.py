"""The exchange runtime: runs one adapter from one source to the agency's standard topics.

Kafka sources are processed exactly once (consume-transform-produce transactions); file drops
commit their progress in the same transactions as their outputs. Records that cannot be used
go to ``mais.<agency>.dlq.v1`` with their original bytes, tagged by stage; transient failures
are retried with backoff; SIGTERM drains, commits and exits cleanly. See ``docs/runtime.md``.
"""

from __future__ import annotations

from exchange.runtime._control import StopSignal
from exchange.runtime._dlq import DlqEntry, Reject, dlq_headers
from exchange.runtime._pipeline import Identity, OutMessage, Pipeline, UnitResult
from exchange.runtime._replay import read_dlq, replay
from exchange.runtime._runner import LoadedAdapter, RunOptions, build_pipeline, resolve_adapter, run_adapter
from exchange.runtime._sources import DirectorySource, KafkaSource, ListenerSource, SourceSpec, parse_source
from exchange.runtime._txn import PermanentDeliveryError, TransactionalWriter, TransactionFencedError

__all__ = [
    "DirectorySource",
    "DlqEntry",
    "Identity",
    "KafkaSource",
    "ListenerSource",
    "LoadedAdapter",
    "OutMessage",
    "PermanentDeliveryError",
    "Pipeline",
    "Reject",
    "RunOptions",
    "SourceSpec",
    "StopSignal",
    "TransactionFencedError",
    "TransactionalWriter",
    "UnitResult",
    "build_pipeline",
    "dlq_headers",
    "parse_source",
    "read_dlq",
    "replay",
    "resolve_adapter",
    "run_adapter",
]
