"""``mais schemas``: check schema evolution against released sets, regenerate models and docs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from exchange.compatibility import CompatibilityLevel
from exchange.schemas import SchemaRepository, default_schemas_dir
from exchange.schemas._docgen import render_standard
from exchange.schemas._evolution import check_against_released, released_versions
from exchange.schemas._modelgen import generate_models

__all__ = ["app"]

app = typer.Typer(
    help="The standard's Avro schemas: evolution check, generated models and reference docs.",
    no_args_is_help=True,
)
_out = Console(highlight=False, soft_wrap=True)

_REPO_ROOT = Path(__file__).resolve().parents[2]

SchemasOption = Annotated[
    Path | None,
    typer.Option("--schemas", help="Folder of working .avsc files (default: schemas/avro)."),
]
ReleasedOption = Annotated[
    Path | None,
    typer.Option(
        "--released", help="Folder of released sets, one sub-folder per version (default: schemas/released)."
    ),
]


@app.command()
def check(
    schemas: SchemasOption = None,
    released: ReleasedOption = None,
    level: Annotated[
        CompatibilityLevel, typer.Option(help="Compatibility level to enforce.")
    ] = CompatibilityLevel.FULL_TRANSITIVE,
) -> None:
    """Fail if the working schemas break any released version (FULL_TRANSITIVE by default)."""
    working = SchemaRepository(schemas or default_schemas_dir())
    released_root = released or _REPO_ROOT / "schemas" / "released"
    versions = [p.name for p in released_versions(released_root)]
    problems = check_against_released(working, released_root, level)
    if not problems:
        _out.print(
            f"[green]ok[/]: {len(working.names())} types compatible with released "
            f"{', '.join(versions)} under {level.value}"
        )
        return
    _out.print(f"[bold red]{len(problems)} breaking change(s)[/] against released {', '.join(versions)}:")
    for item in problems:
        field = f" field [bold]{escape(item.field)}[/]" if item.field else ""
        _out.print(
            f"  record [bold]{escape(item.record)}[/]{field}: rule [bold]{escape(item.rule)}[/]"
            f" - {escape(item.message)}"
        )
    raise typer.Exit(code=1)


@app.command()
def generate(
    schemas: SchemasOption = None,
    models: Annotated[
        Path | None, typer.Option("--models", help="Where to write the generated models.")
    ] = None,
    docs: Annotated[Path | None, typer.Option("--docs", help="Where to write standard.md.")] = None,
) -> None:
    """Regenerate the pydantic models (exchange/models) and docs/standard.md from the schemas."""
    repository = SchemaRepository(schemas or default_schemas_dir())
    written = generate_models(repository, models or _REPO_ROOT / "exchange" / "models")
    doc_path = docs or _REPO_ROOT / "docs" / "standard.md"
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    doc_path.write_text(render_standard(repository), encoding="utf-8")
    _out.print(f"wrote {len(written)} model modules and {doc_path}")
