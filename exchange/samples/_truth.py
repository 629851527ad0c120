"""The answer key: which generated record is which person, and what each file is.

``truth.csv`` has one row per agency record that describes a person: ``person_id`` (the same for
every record of one real person), ``agency``, ``format`` (the adapter that reads the file),
``file`` (relative to the output folder), ``record`` (where in the file, see below) and
``local_id`` (the agency's own identifier for the person in that record).

``record`` counts from 1: the message number in an HL7 v2 file or MLLP stream, the ``Child``
number in a CIN census file, the line number (header is line 1) in a CSV file, and the
``entry`` number of a FHIR Bundle (``Bundle.entry[record - 1]``).
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["TRUTH_COLUMNS", "SampleFile", "SampleSet", "TruthRow", "write_manifest", "write_truth"]

TRUTH_COLUMNS = ("person_id", "agency", "format", "file", "record", "local_id", "cases")


@dataclass(frozen=True, slots=True)
class TruthRow:
    """One agency record and the person it truly describes."""

    person_id: str
    agency: str
    format: str
    file: str
    record: int
    local_id: str


@dataclass(frozen=True, slots=True)
class SampleFile:
    """One generated file and how to translate it (``mais translate --adapter FORMAT``)."""

    file: str
    format: str
    agency: str
    organisation: str
    description: str


@dataclass(slots=True)
class SampleSet:
    """What the writers produced: the files and the truth about their records."""

    files: list[SampleFile] = field(default_factory=list)
    truth: list[TruthRow] = field(default_factory=list)

    def extend(self, other: SampleSet) -> None:
        """Add another writer's output."""
        self.files.extend(other.files)
        self.truth.extend(other.truth)


def write_truth(rows: list[TruthRow], path: Path, cases: dict[str, str] | None = None) -> None:
    """Write ``truth.csv``; ``cases`` gives each person's hard cases (the last column)."""
    cases = cases or {}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TRUTH_COLUMNS)
        for row in rows:
            writer.writerow(
                (row.person_id, row.agency, row.format, row.file, row.record, row.local_id,
                 cases.get(row.person_id, ""))
            )  # fmt: skip


def write_manifest(samples: SampleSet, seed: int, people: int, path: Path) -> None:
    """Write ``manifest.json``: the seed, the size and every file with its adapter and organisation."""
    counts: dict[str, int] = {}
    for row in samples.truth:
        counts[row.file] = counts.get(row.file, 0) + 1
    document = {
        "seed": seed,
        "people": people,
        "files": [dict(asdict(f), person_records=counts.get(f.file, 0)) for f in samples.files],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
