"""Generate a whole sample set: the population, every agency's files, the truth and a manifest."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exchange.samples._dfe import write_cin_census, write_ssda903
from exchange.samples._fhir import write_fhir
from exchange.samples._hard import cases_by_person, plant_hard_cases
from exchange.samples._hl7 import write_hl7
from exchange.samples._people import Population, build_population
from exchange.samples._tabular import write_housing, write_police, write_school_census
from exchange.samples._truth import SampleSet, write_manifest, write_truth

__all__ = ["OUTPUTS", "PEOPLE_COLUMNS", "GeneratedSamples", "generate"]

PEOPLE_COLUMNS = (
    "person_id", "household_id", "role", "given", "middle", "family", "sex", "birth_date",
    "nhs_number", "upn", "la_child_id", "postcode", "previous_postcode",
)  # fmt: skip

OUTPUTS = ("hl7", "mllp", "fhir", "cin", "ssda903", "school", "police", "housing")
"""The folders a sample set is written into (besides truth.csv, people.csv and manifest.json)."""
_FILES = ("truth.csv", "people.csv", "manifest.json")

_WRITERS: tuple[Callable[[Population, Path], SampleSet], ...] = (
    write_hl7,
    write_fhir,
    write_cin_census,
    write_ssda903,
    write_school_census,
    write_police,
    write_housing,
)


@dataclass(frozen=True, slots=True)
class GeneratedSamples:
    """What :func:`generate` wrote: the population and every file with its truth rows."""

    out: Path
    population: Population
    samples: SampleSet


def _write_people(population: Population, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(PEOPLE_COLUMNS)
        for p in population.people:
            previous = p.previous_address.postcode if p.previous_address else ""
            writer.writerow(
                (
                    p.person_id, p.household_id, "child" if p.is_child else "adult", p.given, p.middle,
                    p.family, p.sex, p.birth_date.isoformat(), p.nhs_number or "", p.upn or "",
                    p.la_child_id or "", p.address.postcode, previous,
                )
            )  # fmt: skip


def _clear(out: Path) -> None:
    """Remove an earlier sample set from ``out`` (only the folders and files a sample set has)."""
    for name in OUTPUTS:
        if (out / name).is_dir():
            shutil.rmtree(out / name)
    for name in _FILES:
        (out / name).unlink(missing_ok=True)


def generate(out: Path, *, people: int = 200, seed: int = 1) -> GeneratedSamples:
    """Write a sample set for ``people`` fictional people, drawn from ``seed``, under ``out``.

    The same ``people`` and ``seed`` always give byte-identical files. A sample set already in
    ``out`` is replaced (its folders and files only; anything else in ``out`` is left alone).
    """
    population = build_population(people, seed)
    plant_hard_cases(population)
    _clear(out)
    out.mkdir(parents=True, exist_ok=True)
    samples = SampleSet()
    for writer in _WRITERS:
        samples.extend(writer(population, out))
    write_truth(samples.truth, out / "truth.csv", cases_by_person(population))
    _write_people(population, out / "people.csv")
    write_manifest(samples, seed, people, out / "manifest.json")
    return GeneratedSamples(out, population, samples)
