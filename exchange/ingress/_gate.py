"""The gate in front of a listener: TLS handshake, who the sender is, limits, and counted refusals.

A listener hands every accepted socket to :meth:`IngressGate.connection` (on the connection's own
thread, so a slow handshake holds up nobody else) and, before it reads a unit, asks
:meth:`IngressGate.authorize` who the sender is. A refusal is cheap: nothing past the headers is
read, nothing is written to Kafka, a counter goes up by reason, and a log line says why (at most
one line per reason every ten seconds, so a flood of refusals cannot flood the log).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter

from exchange.ingress._connection import Connection
from exchange.ingress._senders import ClientAllowlist, Sender
from exchange.ingress._settings import IngressSettings
from exchange.ingress._tokens import TokenStore

__all__ = ["REFUSAL_REASONS", "IngressGate", "IngressMetrics", "Listener", "Refused"]

Listener = Literal["http", "mllp"]

REFUSAL_REASONS: dict[str, str] = {
    "plaintext": "a client that does not speak TLS reached a TLS listener",
    "handshake_failed": "the TLS handshake failed (old protocol, no common cipher, client gave up)",
    "no_client_certificate": "the sender presented no client certificate",
    "untrusted_certificate": "the client certificate is not from the configured CA, or has expired",
    "sender_not_allowed": "the client certificate is valid but names no sender on the allowlist",
    "missing_token": "no bearer token in the request",
    "invalid_token": "the bearer token is not in the token file",
    "sender_mismatch": "the certificate and the token name different senders",
    "too_large": "an MLLP message is larger than the limit (an HTTP body over it is the runtime's 413)",
    "slow_sender": "handshake, headers, body or message not complete within its time limit",
    "too_many_connections": "the listener already serves its most connections",
}
"""Every reason a sender can be refused for: the values of the ``reason`` metric label."""

_STATUS = {"missing_token": 401, "invalid_token": 401}
_LOG_EVERY_S = 10.0


class Refused(Exception):
    """A sender refused for ``reason``; ``status`` is the HTTP answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = _STATUS.get(reason, 403)


class IngressMetrics:
    """``mais_ingress_refused_total`` by reason and ``mais_ingress_authenticated_total`` by sender."""

    def __init__(self, registry: CollectorRegistry, adapter: str, agency: str, listener: Listener) -> None:
        self._labels = (adapter, agency, listener)
        self._refused = Counter(
            "mais_ingress_refused",
            "Connections or requests refused before anything was read from them, by reason.",
            ["adapter", "agency", "listener", "reason"],
            registry=registry,
        )
        self._authenticated = Counter(
            "mais_ingress_authenticated",
            "HTTP requests or MLLP connections whose sender was authenticated, by configured sender name.",
            ["adapter", "agency", "listener", "sender"],
            registry=registry,
        )
        for reason in REFUSAL_REASONS:
            self._refused.labels(*self._labels, reason)

    def refused(self, reason: str) -> None:
        self._refused.labels(*self._labels, reason).inc()

    def authenticated(self, sender: Sender) -> None:
        self._authenticated.labels(*self._labels, sender.name).inc()


class IngressGate:
    """TLS, sender authentication and limits for one listener (see the module documentation)."""

    def __init__(
        self,
        listener: Listener,
        settings: IngressSettings | None = None,
        *,
        tls: ssl.SSLContext | None = None,
        tokens: TokenStore | None = None,
        metrics: IngressMetrics | None = None,
        log: Any = None,
    ) -> None:
        self.listener = listener
        self.settings = settings or IngressSettings.model_construct()
        self._tls = tls
        self._allowlist = (
            ClientAllowlist(self.settings.allowed_clients) if self.settings.allowed_clients else None
        )
        self._tokens = tokens
        self._metrics = metrics
        self._log = log
        self._lock = threading.Lock()
        self._active = 0
        self._last_logged: dict[str, tuple[float, int]] = {}

    @property
    def tls(self) -> bool:
        return self._tls is not None

    @contextlib.contextmanager
    def connection(self, sock: socket.socket, address: Any) -> Iterator[Connection | None]:
        """Admit ``sock``: ``None`` (already counted, closed on exit) or the :class:`Connection` to serve."""
        peer = str(address[0]) if isinstance(address, tuple) and address else "?"
        with self._lock:
            full = self._active >= self.settings.max_connections
            if not full:
                self._active += 1
        if full:
            self.refuse("too_many_connections", peer)
            _close(sock)
            yield None
            return
        served = sock
        try:
            connection: Connection | None
            if self._tls is None:
                connection = Connection(sock, peer, self.refuse)
            else:
                connection = self._handshake(sock, peer)
                if connection is not None:
                    served = connection.sock
            yield connection
        finally:
            _close(served)
            with self._lock:
                self._active -= 1

    def authorize(self, connection: Connection, authorization: str | None = None) -> Sender | None:
        """The sender of what ``connection`` sends (``None`` when no authentication is configured).

        ``authorization`` is the HTTP ``Authorization`` header; raises :class:`Refused` (counted).
        """
        sender: Sender | None = None
        if self._allowlist is not None:
            sender = connection.certificate_sender
            if sender is None:
                raise self.refuse("sender_not_allowed", connection.peer)
        if self._tokens is not None:
            token = _bearer(authorization)
            if token is None:
                raise self.refuse("missing_token", connection.peer)
            name = self._tokens.sender_for(token)
            if name is None:
                raise self.refuse("invalid_token", connection.peer)
            if sender is not None and sender.name != name:
                raise self.refuse("sender_mismatch", connection.peer)
            sender = sender or Sender(name, "token")
        if sender is not None and self._metrics is not None:
            self._metrics.authenticated(sender)
        return sender

    def refuse(self, reason: str, peer: str) -> Refused:
        """Count a refusal, log it (at most one line per reason every ten seconds), return it to raise."""
        if self._metrics is not None:
            self._metrics.refused(reason)
        if self._log is None:
            return Refused(reason)
        now = time.monotonic()
        with self._lock:
            last, suppressed = self._last_logged.get(reason, (-_LOG_EVERY_S, 0))
            if now - last < _LOG_EVERY_S:
                self._last_logged[reason] = (last, suppressed + 1)
                return Refused(reason)
            self._last_logged[reason] = (now, 0)
        self._log.warning(
            "sender refused",
            reason=reason,
            error=REFUSAL_REASONS.get(reason, reason),
            listener=self.listener,
            peer=peer,
            count=suppressed + 1,
        )
        return Refused(reason)

    def _handshake(self, sock: socket.socket, peer: str) -> Connection | None:
        assert self._tls is not None  # noqa: S101 - only called with TLS
        sock.settimeout(self.settings.handshake_timeout_s)
        try:
            wrapped = self._tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        except OSError:
            return None  # the peer is already gone
        try:
            wrapped.do_handshake()
        except (ssl.SSLError, OSError) as exc:
            self.refuse(_handshake_reason(exc), peer)
            _close(wrapped)
            return None
        der = wrapped.getpeercert(binary_form=True)
        sender = self._allowlist.sender_for(der) if self._allowlist is not None and der else None
        return Connection(wrapped, peer, self.refuse, certificate_sender=sender)


def _handshake_reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "slow_sender"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "untrusted_certificate"
    reason = getattr(exc, "reason", None)
    if reason in ("HTTP_REQUEST", "WRONG_VERSION_NUMBER", "HTTPS_PROXY_REQUEST", "UNKNOWN_PROTOCOL"):
        return "plaintext"
    if reason in ("PEER_DID_NOT_RETURN_A_CERTIFICATE", "NO_CERTIFICATE_RETURNED"):
        return "no_client_certificate"
    return "handshake_failed"


def _bearer(authorization: str | None) -> str | None:
    if not authorization or len(authorization) > 512:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
