"""Start-up of a listener's gate: read and check every file, and refuse to expose an open door.

A listener on a loopback address may run without TLS or sender authentication (the local demo,
``mais run``). One that other machines can reach must have both — TLS, and client certificates
(or, for HTTP, bearer tokens) — unless the operator says ``--insecure``, and then it warns.
"""

from __future__ import annotations

from typing import Any

from exchange.errors import ConfigError
from exchange.ingress._gate import IngressGate, IngressMetrics, Listener
from exchange.ingress._senders import is_loopback
from exchange.ingress._settings import IngressSettings, setting_label
from exchange.ingress._tls import load_server_tls
from exchange.ingress._tokens import TokenStore
from exchange.metrics import RuntimeMetrics

__all__ = ["build_gate", "check_exposure"]


def check_exposure(settings: IngressSettings, listener: Listener, host: str, port: int) -> str | None:
    """Raise ``ConfigError`` for an unprotected listener beyond loopback; with ``insecure``, the warning."""
    authenticated = settings.client_certificates or (listener == "http" and settings.tokens)
    if (settings.tls and authenticated) or is_loopback(host):
        return None
    missing = " and ".join(
        part
        for part, present in (("TLS", settings.tls), ("sender authentication", authenticated))
        if not present
    )
    where = f"{listener}:{host}:{port}"
    if settings.insecure:
        return f"{where} accepts senders from other machines without {missing} (--insecure)"
    senders = f"{setting_label('tls_client_ca')} with {setting_label('allowed_clients')} NAME=DNS:host"
    if listener == "http":
        senders += f", or {setting_label('token_file')}"
    raise ConfigError(
        f"{where} would accept records from any machine that reaches the port: it has no {missing}",
        hint=(
            f"pass {setting_label('tls_cert')} and {setting_label('tls_key')}, and {senders} "
            "(docs/runtime.md, 'Who may send'); or listen on 127.0.0.1; "
            "or add --insecure if every machine on this network may send"
        ),
    )


def build_gate(
    settings: IngressSettings,
    listener: Listener,
    host: str,
    port: int,
    *,
    metrics: RuntimeMetrics | None = None,
    log: Any = None,
) -> IngressGate:
    """Check ``settings`` and their files, and make the gate; ``ConfigError`` says what is wrong."""
    if listener == "mllp" and settings.tokens:
        raise ConfigError(
            f"{setting_label('token_file')} is for http: sources; "
            "MLLP has no request headers to carry a token",
            hint=f"authenticate HL7 senders with client certificates: {setting_label('tls_client_ca')}",
        )
    warning = check_exposure(settings, listener, host, port)
    tls = load_server_tls(settings)
    tokens = None
    if settings.token_file is not None:

        def warn(message: str) -> None:
            if log is not None:
                log.warning("token file problem", error=message)

        tokens = TokenStore(settings.token_file, warn)
        tokens.load()
    if log is not None:
        for message in [*(tls.warnings if tls else []), *([warning] if warning else [])]:
            log.warning("ingress is not as safe as it should be", error=message)
    ingress_metrics = (
        IngressMetrics(metrics.registry, metrics.adapter, metrics.agency, listener) if metrics else None
    )
    return IngressGate(
        listener,
        settings,
        tls=tls.context if tls else None,
        tokens=tokens,
        metrics=ingress_metrics,
        log=log,
    )
