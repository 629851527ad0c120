"""The live table of ``mais run``: one row per adapter, refreshed from its metrics endpoint."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from exchange.run._feeders import FeedProgress
from exchange.run._processes import AdapterProcess

__all__ = ["render"]


def render(
    processes: list[AdapterProcess],
    feeds: dict[str, FeedProgress],
    *,
    bootstrap_servers: str,
    registry_url: str,
    elapsed: float,
    footer: str,
) -> RenderableType:
    table = Table(title=f"MAIS Exchange: {len(processes)} adapters, {elapsed:.0f} s", title_justify="left")
    for column in ("adapter", "agency", "source", "state", "fed"):
        table.add_column(column)
    for column in ("in", "out", "rejected", "events/s"):
        table.add_column(column, justify="right")
    totals = [0.0, 0.0, 0.0, 0.0]
    for proc in processes:
        feed = feeds.get(proc.entry.name)
        fed = f"{feed.sent}/{feed.total}" + (" done" if feed.finished else "") if feed else "-"
        counts = proc.counts
        state = proc.state
        style = "green" if state == "running" else ("red" if state.startswith("exited") else "yellow")
        table.add_row(
            escape(proc.entry.name),
            escape(proc.entry.agency),
            escape(proc.shown_source),
            f"[{style}]{escape(state)}[/]",
            fed,
            f"{counts.records_in:,.0f}",
            f"{counts.records_out:,.0f}",
            f"[red]{counts.rejected:,.0f}[/]" if counts.rejected else "0",
            f"{proc.rate:,.1f}",
        )
        for i, value in enumerate((counts.records_in, counts.records_out, counts.rejected, proc.rate)):
            totals[i] += value
    table.add_section()
    table.add_row("total", "", "", "", "", *(f"{v:,.0f}" for v in totals[:3]), f"{totals[3]:,.1f}")
    where = Text(f"Kafka {bootstrap_servers} · schema registry {registry_url}", style="dim")
    return Group(table, where, Text(footer, style="dim"))
