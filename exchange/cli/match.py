"""``mais match``: train a person-matching model, link records into persons, query one person.

Input is what ``mais translate`` prints: one JSON object per standard event (``topic``, ``key``,
``schema``, ``value``). Person events (PersonRecorded, PersonRemoved, PersonsMerged) are applied
in file order; other events are skipped. The agency of a record is the ``<agency>`` of its topic.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from exchange.errors import ConfigError
from exchange.matching import (
    MatchIndex,
    MatchRecord,
    RecordMerge,
    RecordRemoval,
    RecordUpsert,
    Thresholds,
    TrainingSettings,
    evaluate,
    link,
    load_model,
    normalise,
    record_change,
    train,
)

__all__ = ["RecordSet", "app", "read_records", "read_truth"]

app = typer.Typer(
    help="Person matching: train a model, link records into persons, query one person.",
    no_args_is_help=True,
)
_err = Console(stderr=True, highlight=False)

Files = Annotated[list[Path], typer.Argument(help="JSON lines from `mais translate` ('-' not supported).")]
ModelOption = Annotated[Path | None, typer.Option("--model", help="Model file (default: the shipped model).")]
LinkOnly = Annotated[
    bool, typer.Option(help="Only compare records of different agencies (two data sets linked together).")
]


@dataclass(slots=True)
class RecordSet:
    """The records that person events in some files leave standing, and the agencies' merges."""

    records: dict[str, MatchRecord] = field(default_factory=dict)
    merges: list[tuple[str, str]] = field(default_factory=list)
    agency_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    """record key -> (agency, local id): how ``truth.csv`` names the record."""


def _lines(files: list[Path]) -> Iterator[tuple[Path, int, dict[str, Any]]]:
    for path in files:
        if not path.is_file():
            raise ConfigError(
                f"no such file: {path}", hint="give the JSON lines files `mais translate` wrote"
            )
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield path, number, json.loads(line)
                except json.JSONDecodeError:
                    raise ConfigError(
                        f"{path}:{number} is not a JSON object",
                        hint="give the standard output of `mais translate`, one event per line",
                    ) from None


def read_records(files: list[Path]) -> RecordSet:
    """Apply the person events of ``files`` in order; what stands at the end."""
    found = RecordSet()
    for path, number, event in _lines(files):
        try:
            agency = str(event["topic"]).split(".")[1]
            change = record_change(event["schema"], event["value"], source=agency, key=event.get("key"))
        except (KeyError, IndexError, TypeError, AttributeError):
            raise ConfigError(
                f"{path}:{number} is not an event as `mais translate` prints it (topic, key, schema, value)",
                hint="check the file is the standard output of `mais translate`",
            ) from None
        if isinstance(change, RecordUpsert):
            found.records[change.record.key] = change.record
            found.agency_keys[change.record.key] = (agency, change.record.key.rpartition("|")[2])
        elif isinstance(change, RecordRemoval):
            found.records.pop(change.key, None)
        elif isinstance(change, RecordMerge):
            found.merges.extend((change.survivor, retired) for retired in change.retired)
    return found


def read_truth(path: Path, records: RecordSet) -> dict[str, str]:
    """record key -> true person id, from a ``truth.csv`` (agency and local id name each record)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = {(r["agency"], r["local_id"]): r["person_id"] for r in csv.DictReader(handle)}
    except (OSError, KeyError) as exc:
        raise ConfigError(
            f"cannot read the truth file {path} ({type(exc).__name__})",
            hint="give the truth.csv of `mais samples generate` (person_id, agency, local_id columns)",
        ) from None
    return {key: rows[ak] for key, ak in records.agency_keys.items() if ak in rows}


@app.command("train")
def train_command(
    files: Files,
    *,
    out: Annotated[Path, typer.Option("--out", help="Where to write the model (JSON).")],
    truth: Annotated[
        Path | None, typer.Option(help="truth.csv: estimate m from labelled pairs instead of EM.")
    ] = None,
    auto_link: Annotated[float, typer.Option(help="Auto-link threshold to save.")] = Thresholds().auto_link,
    review: Annotated[float, typer.Option(help="Review threshold to save.")] = Thresholds().review,
    link_only: LinkOnly = False,
    description: Annotated[
        str, typer.Option(help="What the model was trained on, saved in the file (no personal data).")
    ] = "",
) -> None:
    """Estimate a model (m/u per comparison level, prior, term frequencies) from records."""
    found = read_records(files)
    labels = read_truth(truth, found) if truth is not None else None
    settings = TrainingSettings(thresholds=Thresholds(auto_link, review), link_only=link_only)
    started = time.perf_counter()
    model = train(found.records.values(), truth=labels, settings=settings, description=description)
    model.save(out)
    _err.print(
        f"trained on {len(found.records)} records in {time.perf_counter() - started:.1f} s; wrote {out}"
    )


@app.command("link")
def link_command(
    files: Files,
    truth: Annotated[Path | None, typer.Option(help="truth.csv: print accuracy figures.")] = None,
    model_path: ModelOption = None,
    link_only: LinkOnly = False,
) -> None:
    """Link records into persons: one JSON line per person on stdout; figures on stderr."""
    model = load_model(model_path)
    found = read_records(files)
    started = time.perf_counter()
    result = link(found.records.values(), model, merges=found.merges, link_only=link_only)
    elapsed = time.perf_counter() - started
    for number, cluster in enumerate(result.clusters, start=1):
        sys.stdout.write(json.dumps({"person": number, "records": list(cluster)}) + "\n")
    table = Table(title=f"{len(found.records)} records, {len(result.clusters)} persons")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("auto-link threshold", f"{model.thresholds.auto_link:g}")
    table.add_row("candidate pairs", f"{len(result.candidate_pairs):,}")
    table.add_row("links / possible matches", f"{len(result.links):,} / {len(result.possible):,}")
    table.add_row("records/s", f"{len(found.records) / max(elapsed, 1e-9):,.0f}")
    if truth is not None:
        accuracy = evaluate(result.clusters, read_truth(truth, found), candidate_pairs=result.candidate_pairs)
        for name, value in (
            ("pairwise precision", accuracy.precision),
            ("pairwise recall", accuracy.recall),
            ("pairwise F1", accuracy.f1),
            ("B-cubed precision", accuracy.bcubed_precision),
            ("B-cubed recall", accuracy.bcubed_recall),
            ("blocking ceiling", accuracy.blocking_ceiling or 0.0),
            ("reachable ceiling", accuracy.reachable_ceiling or 0.0),
        ):
            table.add_row(name, f"{value:.4f}")
    _err.print(table)


@app.command("query")
def query_command(
    files: Files,
    person: Annotated[
        Path, typer.Option("--person", help="JSON file: a standard Person, or a PersonRecorded event line.")
    ],
    model_path: ModelOption = None,
    limit: Annotated[int, typer.Option(help="How many candidates to print.")] = 10,
) -> None:
    """Score one person against the records of FILES: ranked candidates with grade and explanation."""
    try:
        document = json.loads(person.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"cannot read {person} as JSON ({type(exc).__name__})", hint="give a JSON file"
        ) from None
    value = document.get("value", document)
    subject = value.get("person", value)
    if not isinstance(subject, dict) or (not subject.get("identifier") and not subject.get("name")):
        raise ConfigError(
            f"{person} holds no Person", hint="give a Person object (identifier, name, dateOfBirth ...)"
        )
    index = MatchIndex(load_model(model_path))
    for record in read_records(files).records.values():
        index.add(record)
    query = normalise(subject, source="query", key="query|query")
    for candidate in index.query(query, limit=limit, min_probability=0.0):
        sys.stdout.write(
            json.dumps(
                {
                    "key": candidate.key,
                    "agency": candidate.record.source,
                    "grade": candidate.grade.score,
                    "quality": candidate.grade.quality,
                    "probability": round(candidate.probability, 6),
                    "rule": candidate.score.rule,
                    "explanation": {
                        c.field: {"level": c.level, "weight": round(c.weight, 2)}
                        for c in candidate.score.contributions
                        if c.level
                    },
                }
            )
            + "\n"
        )
