"""The ``mais`` command: one entry point for operators and adapter authors.

Each bounded context contributes one Typer sub-app from its own module — the kernel's from
``exchange/cli/``, the services' through the ``mais.commands`` entry point
(:mod:`exchange.cli._services`); this module only assembles them and turns
:class:`~exchange.errors.MaisError` into a clear message and exit code.
"""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError
from rich.console import Console

from exchange.cli import adapter, dev, dlq, match, run, samples, schemas, translate
from exchange.cli._services import service_commands
from exchange.errors import MaisError

__all__ = ["app", "main"]

app = typer.Typer(
    name="mais",
    help="MAIS Exchange: share what agencies know about the people they support, as events on Kafka.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(dev.app, name="dev")
app.add_typer(schemas.app, name="schemas")
app.add_typer(translate.app)  # top-level command: mais translate
app.add_typer(samples.app, name="samples")
app.add_typer(adapter.app, name="adapter")
app.add_typer(dlq.app, name="dlq")
app.add_typer(match.app, name="match")
app.add_typer(run.app)  # top-level commands: mais run, mais tail
for _name, _commands in service_commands():
    app.add_typer(_commands, name=_name)

_err = Console(stderr=True, highlight=False)


def main() -> None:
    """Console-script entry point: run the app, report our own errors without a traceback."""
    try:
        app()
    except MaisError as exc:
        _err.print(f"[bold red]error:[/] {exc.message}", soft_wrap=True)
        if exc.hint:
            _err.print(f"[bold]what to do:[/] {exc.hint}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except ValidationError as exc:
        # loc and msg only: the offending input may be a secret, so it is never echoed
        for error in exc.errors(include_url=False, include_input=False):
            where = ".".join(str(part) for part in error["loc"]) or exc.title
            _err.print(f"[bold red]error:[/] invalid setting {where}: {error['msg']}", soft_wrap=True)
        _err.print("[bold]what to do:[/] fix the MAIS_* environment variable or the TOML value named above")
        sys.exit(2)
    except KeyboardInterrupt:
        _err.print("interrupted")
        sys.exit(130)
