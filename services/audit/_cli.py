"""``mais audit keygen`` and ``mais audit verify``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from exchange.audit import (
    AUDIT_TOPIC,
    generate_key_pair,
    load_public_keys,
    read_audit_records,
    verify_records,
)
from exchange.codec import AvroCodec
from exchange.registry_client import RegistrySettings, SchemaRegistryClient
from exchange.settings import KafkaSettings

__all__ = ["app"]

app = typer.Typer(help="Tamper-evident audit: writer keys and verification.", no_args_is_help=True)
_out = Console(highlight=False)


@app.command()
def keygen(
    writer: Annotated[str, typer.Option(help="Name of the audit writer, e.g. enquiry.responder.AGENCY.")],
    directory: Annotated[Path, typer.Option("--dir", help="Where to write WRITER.key and WRITER.pub.")],
) -> None:
    """Create an Ed25519 key pair for an audit writer."""
    key, public = generate_key_pair(directory, writer)
    _out.print(f"wrote {key} (private, keep it with the writer) and {public} (give it to verifiers)")


@app.command()
def verify(
    keys: Annotated[Path, typer.Option(help="Folder of the writers' public keys (WRITER.pub).")],
    topic: Annotated[str, typer.Option(help="The audit topic.")] = AUDIT_TOPIC,
) -> None:
    """Recompute every writer's chain and check every checkpoint; exit 1 naming the first problem of each."""
    public_keys = load_public_keys(keys)
    codec = AvroCodec(SchemaRegistryClient.from_settings(RegistrySettings()))

    def decode(value: bytes) -> Mapping[str, Any]:
        decoded = codec.decode(value).value
        return decoded if isinstance(decoded, Mapping) else {}

    report = verify_records(read_audit_records(KafkaSettings(), topic), decode, public_keys)
    for summary in report.writers.values():
        _out.print(
            f"{summary.writer}: {summary.entries} entries, {summary.checkpoints} checkpoints, "
            f"sealed through {summary.sealed_through}, {summary.unsealed} unsealed"
        )
    if report.foreign:
        _out.print(f"{report.foreign} record(s) without a chain (ignored)")
    for finding in report.findings:
        _out.print(f"[bold red]{finding}[/]")
    if not report.ok:
        raise typer.Exit(1)
    _out.print(f"ok: {topic} verifies ({len(report.writers)} writer(s))")
