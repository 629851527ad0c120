"""Adapter ingress: only the agency's own systems may feed an adapter's ``http:`` and ``mllp:`` sources.

* :class:`IngressSettings` (``MAIS_INGRESS_*``): the listener's certificate and key, the CA of
  the senders' client certificates with an allowlist of named senders, a file of hashed bearer
  tokens (HTTP), size and time limits, and ``insecure``.
* :func:`build_gate` checks all of it at start-up and returns the :class:`IngressGate` a listener
  puts in front of every connection: TLS handshake (TLS 1.2 at least) on the connection's own
  thread, the :class:`Sender` of each unit, refusals counted by reason, deadlines against slow senders.
* :class:`TokenFile` mints tokens (shown once; only their SHA-256 is stored) and revokes them.

See ``docs/runtime.md``, "Who may send".
"""

from __future__ import annotations

from exchange.ingress._connection import Connection, Deadline
from exchange.ingress._gate import REFUSAL_REASONS, IngressGate, IngressMetrics, Listener, Refused
from exchange.ingress._senders import AUTH_TYPES, Sender, is_loopback
from exchange.ingress._settings import ClientRule, IngressSettings, parse_client_rule, setting_label
from exchange.ingress._setup import build_gate, check_exposure
from exchange.ingress._tls import ServerTls, load_server_tls
from exchange.ingress._tokens import TokenEntry, TokenFile, TokenStore, token_hash

__all__ = [
    "AUTH_TYPES",
    "REFUSAL_REASONS",
    "ClientRule",
    "Connection",
    "Deadline",
    "IngressGate",
    "IngressMetrics",
    "IngressSettings",
    "Listener",
    "Refused",
    "Sender",
    "ServerTls",
    "TokenEntry",
    "TokenFile",
    "TokenStore",
    "build_gate",
    "check_exposure",
    "is_loopback",
    "load_server_tls",
    "parse_client_rule",
    "setting_label",
    "token_hash",
]
