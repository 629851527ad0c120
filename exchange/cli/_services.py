"""Commands contributed by services, found through one documented entry point.

The kernel never imports ``services/``: each service that has commands declares a Typer app in
its own ``_cli`` module and registers it in ``pyproject.toml``::

    [project.entry-points."mais.commands"]
    registry = "services.registry._cli:app"

``mais <name> …`` then reaches it. A service's ``_cli`` module should import its heavy
dependencies inside the commands, since every ``mais`` invocation loads every ``_cli`` module.
A command whose module cannot be imported (a broken or partial install) stays listed and says
so when used, instead of taking every other command down with it.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

import typer

from exchange.errors import PrerequisiteError

__all__ = ["ENTRY_POINT_GROUP", "service_commands"]

ENTRY_POINT_GROUP = "mais.commands"


def service_commands() -> list[tuple[str, typer.Typer]]:
    """Every registered service command group, by name, in name order."""
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    return [(ep.name, _load(ep)) for ep in found]


def _load(entry: EntryPoint) -> typer.Typer:
    try:
        loaded = entry.load()
    except Exception as exc:  # any import failure: keep the rest of the CLI usable
        return _unavailable(entry, f"{type(exc).__name__} while importing {entry.value}")
    if not isinstance(loaded, typer.Typer):
        return _unavailable(entry, f"{entry.value} is not a typer.Typer")
    return loaded


def _unavailable(entry: EntryPoint, why: str) -> typer.Typer:
    broken = typer.Typer(help=f"(unavailable: {why})")

    @broken.callback(invoke_without_command=True, context_settings={"ignore_unknown_options": True})
    def _fail() -> None:
        raise PrerequisiteError(
            f"the '{entry.name}' commands cannot be loaded ({why})",
            hint="reinstall MAIS Exchange: bash scripts/bootstrap.sh",
        )

    return broken
