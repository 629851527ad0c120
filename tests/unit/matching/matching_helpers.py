"""Helpers for the matching tests: standard Person values built from a few fields."""

from __future__ import annotations

from datetime import date
from typing import Any

from exchange.identifiers import NHS_NUMBER_SYSTEM


def person(
    key: str,
    *,
    given: str = "",
    family: str = "",
    born: date | None = None,
    nhs: str | None = None,
    line1: str = "",
    city: str = "",
    postcode: str = "",
    accuracy: str = "AAA",
    other_ids: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    """A standard Person (Avro value shape) whose first identifier is ``local|key``."""
    identifiers = [{"system": "https://mais-exchange.org/Id/local/T/mrn", "value": key}]
    if nhs:
        identifiers.append({"system": NHS_NUMBER_SYSTEM, "value": nhs})
    identifiers += [{"system": s, "value": v} for s, v in other_ids]
    value: dict[str, Any] = {"identifier": identifiers, "name": []}
    if given or family:
        value["name"].append(
            {"givenName": [given] if given else [], "familyName": [family] if family else []}
        )
    if born is not None:
        value["dateOfBirth"] = {"date": born, "accuracyIndicator": accuracy}
    if line1 or postcode:
        value["address"] = [{"line1": line1, "city": city, "postcode": postcode}]
    return value
