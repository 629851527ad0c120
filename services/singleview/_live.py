"""Live updates: the subscriber thread says which persons changed; each open page hears about its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable

__all__ = ["Notifier"]


class Notifier:
    """Fan-out of changed person ids from the ingest thread to asyncio listeners (SSE streams)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]] = set()

    def listen(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._listeners.add((asyncio.get_running_loop(), queue))
        return queue

    def forget(self, queue: asyncio.Queue[str]) -> None:
        with self._lock:
            self._listeners = {(loop, q) for loop, q in self._listeners if q is not queue}

    def publish(self, person_ids: Iterable[str]) -> None:
        """Called from any thread after a transaction committed."""
        ids = sorted(set(person_ids))
        if not ids:
            return
        with self._lock:
            listeners = list(self._listeners)
        for loop, queue in listeners:
            for person_id in ids:
                loop.call_soon_threadsafe(_offer, queue, person_id)


def _offer(queue: asyncio.Queue[str], person_id: str) -> None:
    if not queue.full():
        queue.put_nowait(person_id)
