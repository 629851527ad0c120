"""The monitor's engine: a thread that refreshes the picture every few seconds and counts changes."""

from __future__ import annotations

import threading
import time
from typing import Any

import structlog

from exchange.errors import MaisError
from exchange.registry_client import SchemaRegistryClient
from services.monitor._cluster import ClusterSnapshot, ClusterWatcher
from services.monitor._ops import OpsReader
from services.monitor._settings import MonitorSettings
from services.monitor._view import build_view

__all__ = ["Monitor"]

_log = structlog.get_logger("mais.monitor")


class Monitor:
    """Owns the cluster watcher, the ops reader and the registry client; ``view()`` is the picture."""

    def __init__(self, settings: MonitorSettings) -> None:
        self.settings = settings
        self.ops = OpsReader(settings.kafka)
        self._watcher = ClusterWatcher(settings.kafka)
        self._registry = SchemaRegistryClient.from_settings(settings.registry)
        self._cluster = ClusterSnapshot()
        self._schemas: list[dict[str, Any]] = []
        self._schemas_at = 0.0
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._view: dict[str, Any] = {}
        self._fingerprint = ""
        self.version = 0
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)

    def start(self) -> Monitor:
        self.ops.start()
        self.refresh()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)
        self.ops.stop()
        self._registry.close()

    def view(self) -> dict[str, Any]:
        with self._changed:
            return self._view

    def wait_change(self, version: int, timeout_s: float) -> int:
        """Block until the view's version differs from ``version`` (or the timeout); the version."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != version, timeout_s)
            return self.version

    def refresh(self) -> None:
        self._cluster = self._watcher.refresh()
        partitions = {t.topic: t.partitions for t in self._cluster.topics if t.kind == "ops"}
        self.ops.follow(self._cluster.agencies, partitions)
        if time.monotonic() - self._schemas_at > self.settings.schema_refresh_s or not self._schemas:
            self._schemas = self._load_schemas()
            self._schemas_at = time.monotonic()
        self.publish()

    def publish(self) -> None:
        """Rebuild the view from what is known now; wake the streams if anything but clocks moved."""
        with self.ops.lock:
            view = build_view(
                self._cluster, self.ops.ledger, self._schemas, quiet_after_s=self.settings.quiet_after_s
            )
        fingerprint = repr({k: v for k, v in view.items() if k not in ("generated_at",)})
        with self._changed:
            self._view = view
            if fingerprint != self._fingerprint:
                self._fingerprint = fingerprint
                self.version += 1
                self._changed.notify_all()

    def _run(self) -> None:
        next_refresh = time.monotonic() + self.settings.refresh_s
        seen = -1
        while not self._stop.wait(0.25):
            with self.ops.lock:
                ledger_version = self.ops.ledger.version
            if time.monotonic() >= next_refresh:
                try:
                    self.refresh()
                except Exception as exc:  # keep serving the last picture; say what failed
                    _log.warning("monitor_refresh_failed", error_class=type(exc).__name__)
                next_refresh = time.monotonic() + self.settings.refresh_s
                seen = ledger_version
            elif ledger_version != seen:  # ops messages arrived: show them without waiting
                self.publish()
                seen = ledger_version

    def _load_schemas(self) -> list[dict[str, Any]]:
        try:
            rows = []
            for subject in sorted(self._registry.subjects()):
                versions = self._registry.versions(subject)
                rows.append({"subject": subject, "versions": versions, "latest": max(versions, default=0)})
            return rows
        except MaisError as exc:
            _log.warning("monitor_schemas_unavailable", error_class=type(exc).__name__)
            return self._schemas
