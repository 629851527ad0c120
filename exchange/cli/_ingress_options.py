"""``mais adapter run`` options of ``http:`` and ``mllp:`` sources: TLS and who may send.

Each option overrides its ``MAIS_INGRESS_*`` setting; the key passphrase and the size and time
limits are settings only (a passphrase on a command line would show in the process list).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from exchange.errors import ConfigError
from exchange.ingress import IngressSettings

__all__ = [
    "AllowClientOption",
    "InsecureOption",
    "TlsCertOption",
    "TlsClientCaOption",
    "TlsKeyOption",
    "TokenFileOption",
    "ingress_settings",
]

_PANEL = "Listener security (http: and mllp: sources)"

TlsCertOption = Annotated[
    Path | None,
    typer.Option(
        "--tls-cert",
        help="PEM certificate (chain) of the listener: serve TLS 1.2+ (MAIS_INGRESS_TLS_CERT).",
        rich_help_panel=_PANEL,
    ),
]
TlsKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--tls-key",
        help="PEM private key of --tls-cert, PKCS#8 or traditional "
        "(MAIS_INGRESS_TLS_KEY; passphrase: MAIS_INGRESS_TLS_KEY_PASSPHRASE).",
        rich_help_panel=_PANEL,
    ),
]
TlsClientCaOption = Annotated[
    Path | None,
    typer.Option(
        "--tls-client-ca",
        help="PEM CA of the senders' client certificates: senders must present one "
        "(MAIS_INGRESS_TLS_CLIENT_CA).",
        rich_help_panel=_PANEL,
    ),
]
AllowClientOption = Annotated[
    list[str] | None,
    typer.Option(
        "--tls-allow-client",
        help="A sender allowed in: NAME=DNS:host, NAME=URI:uri, NAME=CN:name or NAME=subject:CN=...,O=... "
        "(repeat for each; MAIS_INGRESS_ALLOWED_CLIENTS as a JSON list).",
        rich_help_panel=_PANEL,
    ),
]
TokenFileOption = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help="HTTP only: file of hashed bearer tokens per sender, re-read when it changes "
        "(mais adapter tokens add; MAIS_INGRESS_TOKEN_FILE).",
        rich_help_panel=_PANEL,
    ),
]
InsecureOption = Annotated[
    bool,
    typer.Option(
        "--insecure",
        help="Listen beyond loopback without TLS and sender authentication (warns; MAIS_INGRESS_INSECURE).",
        rich_help_panel=_PANEL,
    ),
]


def ingress_settings(
    *,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_client_ca: Path | None,
    allowed_clients: list[str] | None,
    token_file: Path | None,
    insecure: bool,
) -> IngressSettings:
    """``MAIS_INGRESS_*`` with the options given on the command line on top."""
    given: dict[str, Any] = {
        "tls_cert": tls_cert,
        "tls_key": tls_key,
        "tls_client_ca": tls_client_ca,
        "allowed_clients": allowed_clients or None,
        "token_file": token_file,
        "insecure": insecure or None,
    }
    try:
        return IngressSettings(**{name: value for name, value in given.items() if value is not None})
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(
            f"{where}: {message}" if where else message, hint="see docs/runtime.md, 'Who may send'"
        ) from None
