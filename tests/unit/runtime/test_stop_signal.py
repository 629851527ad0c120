"""SIGTERM handling: seen at once, a drain deadline armed only by a real signal, handlers put back."""

from __future__ import annotations

import signal
import time

from exchange.runtime import StopSignal


def test_install_and_uninstall_put_back_the_handlers_and_the_wakeup_fd() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    stop = StopSignal().install()
    assert signal.getsignal(signal.SIGTERM) is not before[0]
    stop.uninstall()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    assert signal.set_wakeup_fd(-1) == -1  # nothing of ours left behind


def test_sigterm_requests_a_stop_and_arms_the_drain_deadline() -> None:
    stop = StopSignal().install()
    try:
        signal.raise_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not stop.requested() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stop.requested()
        assert stop._signalled.is_set()
        left = stop.drain_left(30)
        assert left is not None and 29 < left <= 30
    finally:
        stop.uninstall()


def test_a_stop_requested_by_code_does_not_arm_the_deadline() -> None:
    stop = StopSignal()
    stop.exit_after_drain(0.01)  # would end this process if a stop by code armed it
    stop.stop()
    time.sleep(0.2)
    assert stop.requested()
    assert not stop._signalled.is_set()
    stop.uninstall()
