"""Extract the checkable facts (field names, cardinalities, code lists) from PUB01 and PUB02.

Used to build ``data/reference_facts.json`` once from the published standards and, where the
reference copies are present on the machine, to prove that file still matches them.
Run ``python tests/unit/schemas/schemas_reference_extract.py DIR`` to rewrite the facts file.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

PUB01 = "standard.PUB01-person-standard.md"
PUB02 = "standard.PUB02-safeguarding-standard.md"
FACTS = Path(__file__).with_name("data") / "reference_facts.json"

_PUB01_RECORDS = ("Person", "Identifier", "Name", "Address", "Contact", "PersonRelationship", "PartialDate")
_PUB01_VOCABULARIES = {
    "Name Use Code Vocabulary": "NameUseCode",
    "Address Use Code Vocabulary": "AddressUseCode",
    "Gender Code Vocabulary": "GenderCode",
    "Phenotypic Sex Code Vocabulary": "PhenotypicSexCode",
    "Ethnicity Code Vocabulary": "EthnicityCode",
    "Person Relationship Code Vocabulary": "PersonRelationshipCode",
}
_PUB02_RECORDS = (
    "Organisation",
    "Service",
    "Professional",
    "ServiceEpisode",
    "LifeEvent",
    "SubjectPerson",
    "RelatedProfessional",
    "TimeInformation",
    "Finding",
    "Observation",
    "Measurement",
)
_PUB02_VOCABULARIES = {
    "Organisation Code Vocabulary": "OrganisationCode",
    "Service Code Vocabulary": "ServiceCode",
    "Episode Code Vocabulary": "EpisodeCode",
    "Event Code Vocabulary": "EventCode",
    "Involvement Code Vocabulary": "InvolvementCode",
    "Observation Type Vocabulary": "ObservationType",
    "Measurement Type Vocabulary": "MeasurementType",
    "Measurement Unit Vocabulary": "MeasurementUnitCode",
}


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^### (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _properties(section: str) -> list[dict[str, Any]]:
    found = []
    for match in re.finditer(r'<span id="[^"]+">([^<]+)</span>\n: (.*)', section):
        cardinality = re.search(r"\(`(\d\.\.[\d*])`\)", match.group(2))
        found.append({"name": match.group(1), "cardinality": cardinality.group(1) if cardinality else None})
    return found


def _codes(section: str) -> list[str]:
    section = section.split("\n## ", 1)[0]
    return re.findall(r"^\| (?:&nbsp;)*(?:└─ )?\*{0,2}`([^`]+)`\*{0,2} \|", section, flags=re.M)


def _camel(name: str) -> str:
    """Published IG names are PascalCase; ours lower the first letter (an all-caps acronym entirely)."""
    return name.lower() if name.isupper() else name[0].lower() + name[1:]


def _ig_fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": _camel(f["name"]), "cardinality": f["cardinality"]} for f in fields]


def _ig(reference: Path) -> dict[str, Any]:
    dsa = json.loads((reference / "information-governance.dsa.json").read_text(encoding="utf-8"))
    request = json.loads((reference / "information-governance.request.json").read_text(encoding="utf-8"))
    policy = dsa["entities"][0]["fields"]
    party = next(f for f in policy if f["name"] == "Party")["children"]
    fields = request["entities"][0]["fields"]
    requested = next(f for f in fields if f["name"] == "RequestedData")["children"]
    return {
        "SharingPolicy": _ig_fields(policy),
        "SharingParty": _ig_fields(party),
        "InformationRequest": _ig_fields(fields),
        "RequestedData": _ig_fields(requested),
    }


def extract(reference: Path) -> dict[str, Any]:
    """Facts from the two publications in ``reference`` (the socialcaredata folder)."""
    pub01 = _sections((reference / PUB01).read_text(encoding="utf-8"))
    pub02 = _sections((reference / PUB02).read_text(encoding="utf-8"))
    return {
        "records": {
            **{name: _properties(pub01[name]) for name in _PUB01_RECORDS},
            **{name: _properties(pub02[name]) for name in _PUB02_RECORDS},
        },
        "vocabularies": {
            **{ours: _codes(pub01[title]) for title, ours in _PUB01_VOCABULARIES.items()},
            **{ours: _codes(pub02[title]) for title, ours in _PUB02_VOCABULARIES.items()},
        },
        "informationGovernance": _ig(reference),
        "dateAccuracyLetters": re.findall(
            r"^- \*\*`([A-Z])`\*\*", pub01["Date Accuracy Indicator Vocabulary"], flags=re.M
        ),
    }


if __name__ == "__main__":
    FACTS.write_text(json.dumps(extract(Path(sys.argv[1])), indent=1) + "\n", encoding="utf-8")
