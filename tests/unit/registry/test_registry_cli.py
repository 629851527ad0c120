"""``mais registry serve`` refuses bad settings before starting anything."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from exchange.cli import app
from exchange.errors import ConfigError


@pytest.mark.parametrize("args", [["--topic", "no spaces allowed"], ["--port", "70000"]])
def test_bad_settings_are_a_config_error(args: list[str]) -> None:
    result = CliRunner().invoke(app, ["registry", "serve", *args])
    assert isinstance(result.exception, ConfigError)
    assert result.exception.exit_code == 2
    assert result.exception.hint
