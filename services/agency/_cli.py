"""``mais agency``: add agencies to a secured exchange and inspect what they may do.

Commands run as the operator: ``MAIS_KAFKA_*`` of a super user, ``MAIS_SCHEMA_REGISTRY_*`` of the
registry's operator and ``MAIS_REGISTRY_USERS_FILE``. Without ``MAIS_KAFKA_*`` in the environment,
the secured local stack of ``mais dev up --secure`` is used if one runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from exchange.errors import ConfigError

if TYPE_CHECKING:
    from exchange.security import AgencyBook
    from services.agency import Operator

__all__ = ["app"]

app = typer.Typer(help="Agencies of a secured exchange: credentials, ACLs, topics.", no_args_is_help=True)

_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)

AgenciesFile = Annotated[
    Path | None,
    typer.Option(
        "--agencies-file", help="Agency definitions (default: MAIS_AGENCIES_FILE, else ./agencies.toml)."
    ),
]


def _book(path: Path | None, *, missing_ok: bool = False) -> AgencyBook:
    from exchange.security import AgencyBook, default_agencies_file  # noqa: PLC0415

    return AgencyBook.load(path or default_agencies_file(), missing_ok=missing_ok)


def _operator() -> Operator:
    """The operator's settings: from the environment, else the running secured local stack."""
    from exchange.registry_client import RegistrySettings  # noqa: PLC0415
    from exchange.settings import KafkaSettings  # noqa: PLC0415
    from services.agency import Operator  # noqa: PLC0415

    if not any(key.startswith("MAIS_KAFKA_") for key in os.environ):
        local = _local_secure_stack()
        if local is not None:
            return local
    users = os.environ.get("MAIS_REGISTRY_USERS_FILE")
    return Operator(KafkaSettings(), RegistrySettings(), Path(users) if users else None)


def _local_secure_stack() -> Operator | None:
    from exchange.cli.dev import DevSettings, running_secure_stack  # noqa: PLC0415
    from services.agency import Operator  # noqa: PLC0415

    found = running_secure_stack(DevSettings())
    if found is None:
        return None
    return Operator(found.operator, found.operator_registry, found.registry_users_file)


@app.command()
def add(  # noqa: PLR0917 - a Typer command takes its options as parameters
    agency_id: Annotated[str, typer.Argument(metavar="ID", help="Agency id, e.g. csc (topics mais.<id>.*).")],
    name: Annotated[str, typer.Option(help="Display name of the agency.")] = "",
    publishes: Annotated[
        str, typer.Option(help="Entities it publishes, comma-separated (person,episode,event).")
    ] = "person,episode,event",
    reads: Annotated[
        list[str] | None,
        typer.Option(help="Another agency's topic it may read: AGENCY.ENTITY, or AGENCY for all three."),
    ] = None,
    env_file: Annotated[
        Path | None,
        typer.Option(help="Write the client settings to this file (mode 0600) instead of printing."),
    ] = None,
    agencies_file: AgenciesFile = None,
) -> None:
    """Define agency ID, create its credentials, ACLs, topics and schema subjects; print its settings once.

    The password is shown (or written to --env-file) this once and never again; running `add` for
    an agency that exists issues it a new password.
    """
    from pydantic import ValidationError  # noqa: PLC0415

    from exchange.security import AgencyDefinition  # noqa: PLC0415
    from services.agency import add_agency  # noqa: PLC0415

    book = _book(agencies_file, missing_ok=True)
    try:
        definition = AgencyDefinition(
            id=agency_id,
            name=name,
            publishes=tuple(p.strip() for p in publishes.split(",") if p.strip()),
            reads=tuple(reads or ()),
        )
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in error["loc"])
        raise ConfigError(
            f"invalid agency {where}: {error['msg']}", hint="see `mais agency add --help`"
        ) from None
    credentials, report = add_agency(book, definition, _operator())
    _err.print(
        f"Agency {agency_id}: {len(report.topics_created)} topic(s) created, {report.acls_created} ACL(s) "
        f"added, {report.acls_deleted} removed, {report.subjects_registered} schema subject(s); defined in "
        f"{escape(str(book.path))}."
    )
    if not credentials.registry_user_written:
        _err.print(
            "[yellow]The registry's users file was not reachable (MAIS_REGISTRY_USERS_FILE): add the "
            "agency's registry credential there before it uses the registry.[/]"
        )
    lines = [f"{key}={value}" for key, value in credentials.environment().items()]
    if env_file is not None:
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("\n".join(lines) + "\n")
        _err.print(f"Client settings written to {escape(str(env_file))} (give them to the agency only).")
    else:
        _err.print("Client settings of the agency (shown this once; give them to the agency only):")
        typer.echo("\n".join(lines))


@app.command()
def apply(agencies_file: AgenciesFile = None) -> None:
    """Re-apply every definition (topics, ACLs, schema subjects) after editing the file; no new passwords."""
    from services.agency import apply_agencies  # noqa: PLC0415

    book = _book(agencies_file)
    for agency, report in apply_agencies(book, _operator()).items():
        _out.print(
            f"{agency}: {len(report.topics_created)} topic(s) created, {report.acls_created} ACL(s) added, "
            f"{report.acls_deleted} removed"
        )


@app.command("list")
def list_(agencies_file: AgenciesFile = None) -> None:
    """The agencies defined: what each publishes and which other topics it may read."""
    book = _book(agencies_file)
    table = Table(title=f"agencies in {book.path}")
    for column in ("id", "name", "publishes", "may read"):
        table.add_column(column)
    for definition in book:
        table.add_row(
            definition.id,
            escape(definition.name),
            ", ".join(definition.publishes),
            ", ".join(definition.granted_topics()) or "-",
        )
    _out.print(table)


@app.command()
def acls(
    agency_id: Annotated[str, typer.Argument(metavar="ID", help="A defined agency.")],
    agencies_file: AgenciesFile = None,
) -> None:
    """The ACL rules agency ID gets (computed from the definitions; nothing is contacted)."""
    definition = _book(agencies_file).get(agency_id)
    table = Table(title=f"ACLs of User:{agency_id} (ALLOW, any host)")
    for column in ("resource", "name", "pattern", "operations"):
        table.add_column(column)
    for rule in definition.acl_rules():
        table.add_row(rule.resource, rule.name, rule.pattern, ", ".join(rule.operations))
    _out.print(table)


@app.command("registry-user")
def registry_user(
    name: Annotated[str, typer.Argument(help="The user: an agency id, mais-monitor, or the operator.")],
    role: Annotated[
        str, typer.Option(help="reader (reads, looks up) or operator (also registers).")
    ] = "reader",
    users_file: Annotated[
        Path | None, typer.Option(help="The registry's users file (default: MAIS_REGISTRY_USERS_FILE).")
    ] = None,
) -> None:
    """Add or replace NAME in the registry's users file; the password is read from standard input.

    For registries whose users are not managed by `mais agency add` (e.g. on Kubernetes, where the
    agency's password is in the secret of its KafkaUser).
    """
    import sys  # noqa: PLC0415

    from exchange.security import RegistryUsers  # noqa: PLC0415

    if role not in ("reader", "operator"):
        raise ConfigError(f"unknown role {role!r}", hint="use --role reader or --role operator")
    path = users_file or (
        Path(os.environ["MAIS_REGISTRY_USERS_FILE"]) if "MAIS_REGISTRY_USERS_FILE" in os.environ else None
    )
    if path is None:
        raise ConfigError("no users file given", hint="pass --users-file or set MAIS_REGISTRY_USERS_FILE")
    password = (
        typer.prompt(f"password of {name}", hide_input=True)
        if sys.stdin.isatty()
        else sys.stdin.readline().strip()
    )
    if not password:
        raise ConfigError("empty password", hint="give the password on standard input")
    users = RegistryUsers.load(path, missing_ok=True)
    users.set(name, "operator" if role == "operator" else "reader", password)
    users.save()
    _err.print(f"{escape(name)} ({role}) is in {escape(str(path))}.")
