"""Helpers for the matching tests: standard Person values built from a few fields."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import strategies as st

from exchange.identifiers import NHS_NUMBER_SYSTEM
from exchange.matching import MatchRecord, normalise


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


# A world where most records share a name (every block is "large" once the limit is 0), with
# nicknames, preferred and former names, typos, swapped dates, shared NHS numbers and identifiers,
# moves and three agencies.
addresses = st.lists(
    st.fixed_dictionaries(
        {
            "line1": st.sampled_from(["1 High Street", "1 High Stret", "2 Low Road", ""]),
            "city": st.sampled_from(["Mayfield", "Mayfeld", "Eastvale", ""]),
            "postcode": st.sampled_from(["MF3 1AB", "MF3 1AD", "MF4 2XY", "EV1 1AA", ""]),
            "UPRN": st.sampled_from(["", "", "100012", "100013"]),
            "use": st.sampled_from(["home", "old"]),
        }
    ),
    max_size=2,
)
people = st.fixed_dictionaries(
    {
        "given": st.sampled_from(["Oliver", "Ollie", "Olivre", "Amelia", ""]),
        "middle": st.sampled_from(["", "James"]),
        "family": st.sampled_from(["Smith", "Smiht", "Jones", "Smith-Jones", ""]),
        "preferred": st.sampled_from(["", "", "Ollie", "James"]),
        "former": st.sampled_from(["", "", "Jones", "Brown"]),
        "born": st.sampled_from(
            [
                date(2015, 3, 4),
                date(2015, 4, 3),
                date(2015, 3, 9),
                date(2016, 3, 4),
                date(1990, 1, 2),
                date(2015, 5, 5),
                None,
            ]
        ),
        "accuracy": st.sampled_from(["AAA", "AAA", "UAA", "UUA", "AAU"]),
        "nhs": st.sampled_from(["9990001234", "9990002230", None, None]),
        "other": st.sampled_from([None, "A1", "A2"]),
        "addresses": addresses,
        "source": st.sampled_from(["gp", "school", "police"]),
    }
)


def drawn_record(number: int, fields: dict[str, Any]) -> MatchRecord:
    """The record of one drawn ``people`` example, keyed ``<source>|R<number>``."""
    identifiers = [{"system": f"https://example.org/{fields['source']}", "value": f"R{number}"}]
    if fields["nhs"]:
        identifiers.append({"system": NHS_NUMBER_SYSTEM, "value": fields["nhs"]})
    if fields["other"]:
        identifiers.append({"system": "https://example.org/upn", "value": fields["other"]})
    given_names = [g for g in (fields["given"], fields["middle"]) if g]
    name: dict[str, Any] = {
        "givenName": given_names,
        "familyName": [fields["family"]] if fields["family"] else [],
    }
    if fields.get("preferred"):
        name["preferredName"] = fields["preferred"]
    names = [name]
    if fields.get("former"):
        names.append({"use": "old", "givenName": [], "familyName": [fields["former"]]})
    value: dict[str, Any] = {"identifier": identifiers, "name": names, "address": fields["addresses"]}
    if fields["born"] is not None:
        value["dateOfBirth"] = {"date": fields["born"], "accuracyIndicator": fields["accuracy"]}
    return normalise(value, source=fields["source"], key=f"{fields['source']}|R{number}")


def drawn_records(drawn: list[dict[str, Any]]) -> list[MatchRecord]:
    """The records of drawn ``people`` examples."""
    return [drawn_record(n, f) for n, f in enumerate(drawn)]
