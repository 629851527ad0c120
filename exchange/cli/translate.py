"""``mais translate``: run one adapter over files, offline, and print standard events as JSON.

stdout gets one JSON object per standard event (``topic``, ``key``, ``schema``, ``value``);
stderr gets one JSON object per rejected record (``file``, ``record``, ``stage``, ``error``).
Exit status: 0 when nothing was rejected, 3 when some records were, 2 on usage errors.
No broker, no registry: this is how adapter authors and agency IT check a mapping.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from exchange.adapter import Adapter, AdapterContext, StandardEvent, load_adapter
from exchange.cli._options import OrganisationOption
from exchange.errors import ConfigError, DataError

__all__ = ["app", "event_json", "jsonable", "translate_files"]

EXIT_REJECTS = 3

app = typer.Typer()


@app.command("translate", context_settings={"allow_interspersed_args": True}, no_args_is_help=True)
def translate(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE", help="Input files (read whole; '-' is not supported).", show_default=False
        ),
    ],
    adapter: Annotated[
        str, typer.Option("--adapter", "-a", metavar="NAME", help="Adapter name, e.g. hl7v2.")
    ],
    agency: Annotated[
        str, typer.Option(metavar="AGENCY", help="Agency in topic names mais.<agency>.<entity>.v1.")
    ] = "local",
    organisation: OrganisationOption = "",
    warnings: Annotated[
        bool, typer.Option("--warnings", help="Also print warnings (fields left out, JSON) on stderr.")
    ] = False,
) -> None:
    """Translate files with one adapter, offline: standard events as JSON lines on stdout.

    Rejected records are JSON lines on stderr. Exit status: 0 when nothing was rejected, 3 when
    some records were, 2 on usage errors.
    """
    chosen = load_adapter(adapter)
    publisher = organisation or agency
    chosen.check_organisation(publisher)
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise ConfigError(f"no such file: {', '.join(missing)}", hint="check the paths given to translate")
    rejected = translate_files(
        chosen,
        files,
        agency=agency,
        organisation=publisher,
        out=sys.stdout,
        err=sys.stderr,
        warnings=warnings,
    )
    if rejected:
        raise typer.Exit(EXIT_REJECTS)


def translate_files(
    adapter: Adapter,
    files: list[Path],
    *,
    agency: str,
    organisation: str,
    out: TextIO,
    err: TextIO,
    warnings: bool = False,
) -> int:
    """Translate ``files``; write events to ``out`` and rejects to ``err``; return the reject count."""
    rejected = 0
    for path in files:
        warn = _Warner(path, err, warnings)
        context = AdapterContext(agency=agency, organisation_id=organisation, warn=warn)
        try:
            data = path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or "file cannot be read"
            _line(err, {"file": str(path), "record": None, "stage": "read", "error": reason})
            rejected += 1
            continue
        for origin, events, problem in _records(adapter, data, path.name, context, warn):
            if problem is not None:
                _line(err, {"file": str(path), "record": origin, "stage": problem[0], "error": problem[1]})
                rejected += 1
                continue
            for event in events:
                _line(out, event_json(event, agency))
    return rejected


Outcome = tuple[str, Sequence[StandardEvent], tuple[str, str] | None]
"""(record origin, its events, (stage, error) when it was rejected)."""


def _records(
    adapter: Adapter, data: bytes, name: str, context: AdapterContext, warner: _Warner
) -> Iterator[Outcome]:
    origin = warner.origin = name
    try:
        for record in adapter.split(data, name):
            origin = warner.origin = record.origin
            try:
                yield origin, adapter.translate(record, context), None
            except DataError as exc:
                yield origin, (), (exc.stage, exc.message)
            except ConfigError:
                raise
            except Exception as exc:
                yield origin, (), ("internal", f"adapter raised {type(exc).__name__}")
    except DataError as exc:
        yield origin, (), (exc.stage, exc.message)
    except ConfigError:
        raise
    except Exception as exc:
        yield origin, (), ("internal", f"adapter raised {type(exc).__name__} while splitting")


def event_json(event: StandardEvent, agency: str) -> dict[str, Any]:
    """The JSON form of one event as ``mais translate`` prints it."""
    return {
        "topic": f"mais.{agency}.{event.entity}.v1",
        "key": event.key,
        "schema": event.schema,
        "value": jsonable(event.value),
    }


def jsonable(value: Any) -> Any:
    """``value`` with timestamps and dates as ISO 8601 text (timestamps in UTC, milliseconds)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Warner:
    """``AdapterContext.warn`` for one file: a JSON line on stderr naming the record (if shown)."""

    def __init__(self, path: Path, err: TextIO, show: bool) -> None:
        self.path, self.err, self.show = path, err, show
        self.origin: str | None = None

    def __call__(self, code: str, message: str) -> None:
        if self.show:
            where = {"file": str(self.path), "record": self.origin}
            _line(self.err, where | {"warning": code, "message": message})


def _line(stream: TextIO, obj: dict[str, Any]) -> None:
    stream.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
