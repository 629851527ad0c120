"""Synthetic but realistic sample data for every adapter, with the truth about who is who.

:func:`generate` builds a seeded population of fictional children and their parents or carers,
decides which agencies know each of them, and writes each agency's records in its own format
(HL7 v2 ADT, FHIR R4 Bundles, CIN census XML, SSDA903 CSV, school / police / housing exports)
with the small mistakes real records have. ``truth.csv`` says which records are the same person;
``manifest.json`` says which adapter and organisation id read each file. See ``README.md``.
"""

from __future__ import annotations

from exchange.samples._generate import PEOPLE_COLUMNS, GeneratedSamples, generate
from exchange.samples._people import MAX_PEOPLE, REFERENCE_DATE, Person, Population, build_population
from exchange.samples._truth import TRUTH_COLUMNS, SampleFile, SampleSet, TruthRow

__all__ = [
    "MAX_PEOPLE",
    "PEOPLE_COLUMNS",
    "REFERENCE_DATE",
    "TRUTH_COLUMNS",
    "GeneratedSamples",
    "Person",
    "Population",
    "SampleFile",
    "SampleSet",
    "TruthRow",
    "build_population",
    "generate",
]
