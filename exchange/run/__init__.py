"""``mais run``: the local broker and registry, the standard's schemas, adapters from ``mais.toml``
fed with generated records in real time, and a live table of what flows. See ``docs/run.md``.
"""

from __future__ import annotations

from exchange.run._config import AdapterEntry, RunConfig, SampleSettings, load_config
from exchange.run._processes import Counts, parse_metrics
from exchange.run._run import RunSettings, run_exchange

__all__ = [
    "AdapterEntry",
    "Counts",
    "RunConfig",
    "RunSettings",
    "SampleSettings",
    "load_config",
    "parse_metrics",
    "run_exchange",
]
