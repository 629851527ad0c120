"""``mais samples``: synthetic, fictional agency records for trying adapters and scoring matchers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from exchange.errors import ConfigError
from exchange.samples import MAX_PEOPLE
from exchange.samples import generate as generate_samples

__all__ = ["app"]

app = typer.Typer(
    help="Synthetic sample records (fictional people known to several agencies) with a truth file.",
    no_args_is_help=True,
)
_out = Console(highlight=False, soft_wrap=True)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the sample set into.")],
    people: Annotated[int, typer.Option(help="How many people (children and their carers).")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 1,
    force: Annotated[
        bool, typer.Option(help="Replace a sample set already in the folder (other files are left alone).")
    ] = False,
) -> None:
    """Write HL7 v2, FHIR, CIN census, SSDA903 and tabular exports plus truth.csv and manifest.json."""
    if not 1 <= people <= MAX_PEOPLE:
        raise ConfigError(
            f"--people must be between 1 and {MAX_PEOPLE}", hint="give --people a number in that range"
        )
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder", hint="give --out a folder path")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ConfigError(
            f"{out} is not empty",
            hint="choose a new or empty folder, or pass --force to replace the sample set in it",
        )
    with _out.status(f"Generating {people} people …"):
        result = generate_samples(out, people=people, seed=seed)
    records = Counter(row.file for row in result.samples.truth)
    by_format: Counter[tuple[str, str, str]] = Counter()
    files: Counter[tuple[str, str, str]] = Counter()
    for item in result.samples.files:
        key = (item.format, item.agency, item.organisation)
        by_format[key] += records[item.file]
        files[key] += 1
    table = Table(title=f"Sample set in {escape(str(out))} (seed {seed})")
    for column in ("adapter", "agency", "organisation", "files", "person records"):
        table.add_column(column, justify="right" if column in ("files", "person records") else "left")
    for key, count in by_format.items():
        table.add_row(*key, str(files[key]), str(count))
    _out.print(table)
    distinct = len({row.person_id for row in result.samples.truth})
    _out.print(
        f"{len(result.samples.truth)} records of {distinct} of {people} people in truth.csv; "
        "manifest.json names the adapter and --organisation for each file."
    )
