"""Service commands arrive through the ``mais.commands`` entry point, and a broken one stays contained."""

from __future__ import annotations

from importlib.metadata import EntryPoint

from typer.testing import CliRunner

from exchange.cli import app
from exchange.cli._services import ENTRY_POINT_GROUP, _load, service_commands
from exchange.errors import PrerequisiteError


def test_the_registry_command_is_registered_by_entry_point() -> None:
    names = [name for name, _ in service_commands()]
    assert "registry" in names
    result = CliRunner().invoke(app, ["registry", "serve", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output


def test_a_service_that_cannot_be_imported_says_so_when_used() -> None:
    broken = EntryPoint(name="ghost", value="services.no_such_service._cli:app", group=ENTRY_POINT_GROUP)
    commands = _load(broken)
    result = CliRunner().invoke(commands, [])
    assert isinstance(result.exception, PrerequisiteError)
    assert "ghost" in result.exception.message
    assert "ModuleNotFoundError" in result.exception.message
    assert result.exception.hint


def test_an_entry_point_that_is_not_a_typer_app_is_refused() -> None:
    wrong = EntryPoint(name="odd", value="exchange.errors:MaisError", group=ENTRY_POINT_GROUP)
    result = CliRunner().invoke(_load(wrong), [])
    assert isinstance(result.exception, PrerequisiteError)
    assert "not a typer.Typer" in result.exception.message
