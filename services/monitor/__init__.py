"""The operator's monitor: which feed is late, what is rejected and why, lag, schemas, brokers.

It runs with a principal that may describe topics and groups but never read a record; what it
knows of each agency's feeds comes from the agency's own adapters on ``mais.<agency>.ops.v1``
(see :mod:`exchange.ops`). Its replay button sends a request there; the agency's adapter replays
and reports back. ``mais monitor serve`` runs it; :func:`build_app` embeds it.
"""

from __future__ import annotations

from services.monitor._app import build_app
from services.monitor._monitor import Monitor
from services.monitor._server import serve
from services.monitor._settings import MonitorSettings

__all__ = ["Monitor", "MonitorSettings", "build_app", "serve"]
