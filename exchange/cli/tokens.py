"""``mais adapter tokens``: bearer tokens of the systems that push to an ``http:`` source.

``add`` mints a token, prints it once (it is never stored: only its SHA-256 goes into the token
file) and appends the hash; ``list`` shows senders and token ids, never tokens; ``revoke``
deletes a sender's tokens. A running adapter re-reads the file within a second, so adding,
rotating and revoking need no restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from exchange.errors import ConfigError
from exchange.ingress import TokenFile

__all__ = ["app"]

app = typer.Typer(help="Bearer tokens of HTTP senders (stored hashed; shown once).", no_args_is_help=True)

_err = Console(stderr=True, highlight=False)

TokenFilePath = Annotated[
    Path, typer.Option("--token-file", help="The token file the adapter reads (--token-file of adapter run).")
]
SenderName = Annotated[
    str, typer.Option("--sender", help="The sending system's name, e.g. gp-emis (never a person).")
]


@app.command("add")
def add(token_file: TokenFilePath, sender: SenderName) -> None:
    """Mint a token for SENDER: print it once, append its hash to the token file."""
    token = TokenFile(token_file).add(sender)
    _err.print(
        f"token for sender {sender} added to {token_file}; it is shown once, here, and stored nowhere:",
        soft_wrap=True,
    )
    typer.echo(token)


@app.command("list")
def list_tokens(token_file: TokenFilePath) -> None:
    """Senders, token ids (first 12 hex digits of the hash) and when each token was made."""
    for entry in TokenFile(token_file).entries():
        typer.echo(f"{entry.sender}\t{entry.token_id}\t{entry.created or '-'}")


@app.command("revoke")
def revoke(
    token_file: TokenFilePath,
    sender: SenderName,
    token_id: Annotated[
        str | None, typer.Option("--token-id", help="Only this token (an id from `list`).")
    ] = None,
) -> None:
    """Delete SENDER's tokens (or one of them) from the token file."""
    removed = TokenFile(token_file).revoke(sender, token_id)
    if not removed:
        raise ConfigError(
            f"no token of sender {sender}{f' with id {token_id}' if token_id else ''} in {token_file}",
            hint="see mais adapter tokens list",
        )
    _err.print(
        f"revoked {removed} token(s) of {sender}; a running adapter stops accepting them within a second",
        soft_wrap=True,
    )
