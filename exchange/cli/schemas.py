"""``mais schemas``: evolution check against released sets, generated models and docs, validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from exchange.cli._options import renamed_help
from exchange.compatibility import CompatibilityLevel
from exchange.errors import ConfigError, DataError
from exchange.registry_client import RegistrySettings, SchemaRegistryClient
from exchange.schemas import (
    SchemaRepository,
    check_against_released,
    default_schemas_dir,
    event_names,
    from_json,
    generate_models,
    problems,
    released_versions,
    render_standard,
    schema_json,
)

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


@app.command("validate")
def validate_files(
    files: Annotated[list[Path], typer.Argument(help="JSON files, each one value of the standard.")],
    type_name: Annotated[
        str | None,
        typer.Option("--type", help="Full name of the type (default: mais.v1.<file stem>)."),
    ] = None,
) -> None:
    """Check JSON values against the standard; report each problem by field, never by value."""
    failures = 0
    for path in files:
        name = type_name or f"mais.v1.{path.stem}"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"{path}: cannot read JSON ({type(exc).__name__})", hint="pass JSON files"
            ) from exc
        try:
            found = [str(p) for p in problems(name, from_json(name, data))]
        except DataError as exc:
            found = [exc.message]
        if found:
            failures += 1
            _out.print(f"[red]invalid[/] {escape(str(path))} as {escape(name)}:")
            for item in found:
                _out.print(f"  {escape(item)}")
        else:
            _out.print(f"[green]ok[/] {escape(str(path))} as {escape(name)}")
    if failures:
        raise typer.Exit(code=1)


def register_standard(registry: SchemaRegistryClient) -> list[tuple[str, int, bool]]:
    """Register every event schema under its full name; return (subject, id, newly registered)."""
    done: list[tuple[str, int, bool]] = []
    for name in event_names():
        schema = schema_json(name)
        known = registry.lookup(name, schema)
        schema_id = known.id if known is not None else registry.register(name, schema)
        done.append((name, schema_id, known is None))
    return done


@app.command()
def register(
    registry_url: Annotated[
        str | None,
        typer.Option(
            "--registry-url",
            "--url",
            help=renamed_help(
                "Schema registry URL (default: MAIS_SCHEMA_REGISTRY_URL, else the local one).", "--url"
            ),
        ),
    ] = None,
) -> None:
    """Load the standard's event schemas into the registry, one subject per event (idempotent).

    Subjects are the events' full names (``mais.v1.PersonRecorded``); adapters also register
    each schema under ``<topic>-<full name>`` when they first write to a topic.
    """
    settings = RegistrySettings(url=registry_url) if registry_url else RegistrySettings()
    registry = SchemaRegistryClient.from_settings(settings)
    try:
        done = register_standard(registry)
    finally:
        registry.close()
    for subject, schema_id, new in done:
        _out.print(f"{'[green]registered[/]' if new else 'unchanged '} {escape(subject)} (id {schema_id})")
    fresh = sum(1 for _, _, new in done if new)
    _out.print(f"{len(done)} event schemas in the registry, {fresh} newly registered")
