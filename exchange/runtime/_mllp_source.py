"""MLLP: HL7 v2 senders over TCP, each message acknowledged only after the broker committed it.

The :class:`~._mllp_listener.MllpListener` frames the stream and answers with the adapter's
``acknowledge`` (HL7 v2: an ``ACK``); this module gives it a ``deliver`` that hands each message
to the push loop (:mod:`._push`) and returns once the transaction holding its events, rejects
and idempotency marker committed:

* committed with events, or a duplicate of a message committed before → ``AA``;
* committed but dead-lettered → :class:`DataError` → ``AE`` (``AR`` if not HL7 at all);
* not committed (stopping, broker unreachable for a minute) → ``AR``: the sender sends it again.

The idempotency key is the sending application and facility, the message control id (MSH-3,
MSH-4, MSH-10) and a short hash of the message, so a sender that resends after a lost ACK never
causes a second copy.
"""

from __future__ import annotations

import hashlib
import re

from exchange.errors import ConfigError, DataError, PrerequisiteError, TransientError
from exchange.ingress import IngressGate, Sender
from exchange.runtime._context import LoopContext
from exchange.runtime._mllp_listener import MllpListener
from exchange.runtime._push import IDEMPOTENCY_KEY, Outcome, PushLoop

__all__ = ["MllpSourceLoop", "hl7_idempotency_key"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def hl7_idempotency_key(message: bytes) -> str:
    """``<MSH-3>.<MSH-4>:<MSH-10>:<hash>`` (unsafe characters replaced), else ``sha256:<hash>``.

    The hash of the message is part of the key because control ids are reused in practice (a
    sender's counter reset, a test feed replayed): a resend of the same bytes is a duplicate, a
    different message with a reused control id is not.
    """
    digest = hashlib.sha256(message).hexdigest()
    first = message.lstrip(b"\r\n").split(b"\r", 1)[0].split(b"\n", 1)[0]
    if first.startswith(b"MSH") and len(first) > 4:
        text = first.decode("latin-1")
        fields = text.split(text[3])
        if len(fields) > 9 and fields[9].strip():
            sender = ".".join(_UNSAFE.sub("_", f)[:20] for f in (fields[2], fields[3]))
            key = f"{sender}:{_UNSAFE.sub('_', fields[9])[:60]}:{digest[:16]}"
            if IDEMPOTENCY_KEY.match(key):
                return key
    return f"sha256:{digest}"


class MllpSourceLoop:
    """Runs one adapter behind an MLLP listener until stopped."""

    def __init__(self, ctx: LoopContext, host: str, port: int, gate: IngressGate | None = None) -> None:
        acknowledge = ctx.pipeline.adapter.acknowledge
        if acknowledge is None:
            raise ConfigError(
                f"adapter {ctx.adapter_name!r} does not speak MLLP (its declaration has no acknowledge)",
                hint="use an mllp: source with an adapter that declares one (hl7v2), or a dir:/http: source",
            )
        self.push = PushLoop(ctx, "mllp")
        try:
            self._listener = MllpListener(self._deliver, acknowledge, host, port, gate=gate)
        except OSError as exc:
            raise PrerequisiteError(
                f"cannot listen on {host}:{port} ({exc.strerror})", hint="choose a free port in --source"
            ) from None

    @property
    def port(self) -> int:
        return int(self._listener.address[1])

    def run(self) -> None:
        self.push.run(self._start, self._listener.stop)

    def _start(self) -> str:
        self._listener.start()
        return f"port {self.port} (MLLP{' over TLS' if self._listener.tls else ''})"

    def _deliver(self, message: bytes, origin: str, sender: Sender | None) -> None:
        request = self.push.submit(message, hl7_idempotency_key(message), sender=sender)
        if request.outcome is Outcome.DUPLICATE:
            return
        if request.outcome is not Outcome.COMMITTED or request.result is None:
            raise TransientError("message not committed; send it again")
        if request.result.rejects:
            reject = request.result.rejects[0]
            raise DataError(f"{reject.message} (stage {reject.stage}; in the DLQ)", stage=reject.stage)
