"""``mais dlq``: look at rejected records and send chosen ones back through a fixed adapter."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from exchange.cli._options import OrganisationOption
from exchange.cli._runtime_options import (
    AgencyOption,
    BootstrapOption,
    RegistryOption,
    agency_id,
    kafka_settings,
    registry_client,
)
from exchange.errors import ConfigError
from exchange.logging import configure_logging, get_logger
from exchange.metrics import HealthState, RuntimeMetrics
from exchange.runtime import DlqEntry, KafkaSource, RunOptions, StopSignal, build_pipeline, resolve_adapter
from exchange.runtime._context import LoopContext
from exchange.runtime._replay import read_dlq, replay, replayed_coordinates

app = typer.Typer(help="Inspect and replay records the adapters rejected.", no_args_is_help=True)

_out = Console(highlight=False)


def _select(entries: list[DlqEntry], stage: str | None, adapter: str | None) -> list[DlqEntry]:
    return [
        e
        for e in entries
        if (stage is None or e.stage == stage) and (adapter is None or e.adapter == adapter)
    ]


@app.command("list")
def list_(
    agency: AgencyOption,
    stage: Annotated[str | None, typer.Option(help="Only rejects of this stage.")] = None,
    adapter: Annotated[str | None, typer.Option(help="Only rejects of this adapter.")] = None,
    bootstrap_servers: BootstrapOption = None,
) -> None:
    """List the agency's DLQ: where each reject came from and why (never its content)."""
    kafka = kafka_settings(bootstrap_servers)
    entries = _select(read_dlq(kafka, agency_id(agency)), stage, adapter)
    replayed = replayed_coordinates(kafka, agency) if entries else set()
    table = Table(title=f"mais.{agency}.dlq.v1 — {len(entries)} reject(s)")
    for column in ("entry", "time", "adapter", "stage", "error", "origin", "message", "replayed"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            e.coordinate,
            e.time,
            e.adapter,
            e.stage,
            e.error_class,
            escape(e.origin),
            escape(e.message),
            "yes" if e.coordinate in replayed else ("again" if e.replays else ""),
        )
    _out.print(table)


@app.command()
def show(
    agency: AgencyOption,
    entry: Annotated[str, typer.Argument(help="PARTITION:OFFSET as shown by `mais dlq list`.")],
    show_bytes: Annotated[
        bool, typer.Option("--bytes", help="Also print the original bytes (they may hold personal data).")
    ] = False,
    bootstrap_servers: BootstrapOption = None,
) -> None:
    """Show one reject: all its headers and, with --bytes, the original record."""
    found = [
        e for e in read_dlq(kafka_settings(bootstrap_servers), agency_id(agency)) if e.coordinate == entry
    ]
    if not found:
        raise ConfigError(f"no DLQ entry {entry}", hint="see `mais dlq list` for entries (PARTITION:OFFSET)")
    e = found[0]
    for label, value in (
        ("entry", e.coordinate),
        ("adapter", e.adapter),
        ("source", e.source),
        ("origin", e.origin),
        ("stage", e.stage),
        ("error", e.error_class),
        ("message", e.message),
        ("time", e.time),
        ("unit", "whole source unit" if e.unit else "one record"),
        ("replays", str(e.replays)),
        ("size", f"{len(e.value)} bytes"),
    ):
        _out.print(f"[bold]{label:>8}[/] {escape(value)}")
    for name, raw in e.original_headers:
        _out.print(f"[bold]  header[/] {escape(name)} = {escape(raw.decode('utf-8', 'replace'))}")
    if show_bytes:
        _out.print(escape(e.value.decode("utf-8", "backslashreplace")))


@app.command("replay")
def replay_(  # noqa: PLR0917 - a Typer command takes its options as parameters
    agency: AgencyOption,
    adapter: Annotated[str, typer.Option(help="The (fixed) adapter to send the records through.")],
    entries: Annotated[list[str] | None, typer.Argument(help="PARTITION:OFFSET entries to replay.")] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every entry not replayed yet.")] = False,
    stage: Annotated[str | None, typer.Option(help="With --all: only rejects of this stage.")] = None,
    organisation: OrganisationOption = "",
    bootstrap_servers: BootstrapOption = None,
    registry_url: RegistryOption = None,
) -> None:
    """Send chosen rejects through ADAPTER again; ones that fail again go back to the DLQ, once.

    Pass the --organisation the adapter ran with, so that replayed events carry the same keys.
    """
    if not entries and not replay_all:
        raise ConfigError("nothing to replay", hint="name entries (PARTITION:OFFSET) or pass --all")
    configure_logging("WARNING")
    kafka = kafka_settings(bootstrap_servers)
    agency = agency_id(agency)
    loaded = resolve_adapter(adapter)
    loaded.adapter.check_organisation(organisation or agency)
    everything = read_dlq(kafka, agency)
    chosen = (
        _select(everything, stage, loaded.adapter.name)
        if replay_all
        else [e for e in everything if e.coordinate in set(entries or ())]
    )
    missing = set(entries or ()) - {e.coordinate for e in chosen}
    if missing:
        raise ConfigError(f"no DLQ entries {', '.join(sorted(missing))}", hint="see `mais dlq list`")
    options = RunOptions(
        adapter=loaded,
        agency=agency,
        source=KafkaSource(f"mais.{agency}.dlq.v1"),
        kafka=kafka,
        registry=registry_client(registry_url),
        organisation_id=organisation,
    )
    metrics = RuntimeMetrics(loaded.adapter.name, agency)
    ctx = LoopContext(
        build_pipeline(options, metrics),
        kafka,
        metrics,
        HealthState(),
        StopSignal(),
        get_logger("exchange.dlq"),
    )
    with _out.status(f"Replaying {len(chosen)} reject(s) …"):
        report = replay(ctx, chosen)
    _out.print(
        f"replayed {report.replayed}, events delivered {report.events}, "
        f"failed again (back in the DLQ) {report.failed_again}, already replayed {report.skipped}"
    )
