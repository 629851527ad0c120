"""The project's code list of sharing purposes and data categories (information governance).

A *sharing purpose* says why a request is made; policies list the purposes they allow and a
request asserts one. Purposes are keyed by the legislation.gov.uk URI of the provision that gives
the legal basis. That site names a provision in two forms, the identifier form
``http://www.legislation.gov.uk/id/ukpga/1989/41/section/47`` and the document form
``https://www.legislation.gov.uk/ukpga/1989/41/section/47`` (used by the data exchange standard's
example); both are accepted, with ``http``/``https`` and with or without ``www.``, and the
identifier form is what is stored. Sharing under a data sharing agreement has no provision of its
own and gets a project URI.

A purpose travels as a ``Coding`` with system :data:`SHARING_PURPOSE_SYSTEM` and the canonical URI
as its code. :func:`purpose_from_coding` also reads a coding whose system is the legislation site
and whose code is the path (``ukpga/1989/41/section/47``).

*Data categories* name what a request asks for and a policy covers: whether the person is known
and whom to contact (``contact``), and a summary of involvements (``involvement``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "DATA_CATEGORIES",
    "DATA_CONTACT",
    "DATA_INVOLVEMENT",
    "PURPOSES",
    "SHARING_PURPOSE_SYSTEM",
    "Purpose",
    "canonical_data",
    "canonical_purpose_uri",
    "purpose_from_coding",
    "purpose_from_text",
]

SHARING_PURPOSE_SYSTEM = "https://mais-exchange.org/CodeSystem/sharing-purpose"
_ID_BASE = "http://www.legislation.gov.uk/id/"
_LEGISLATION = re.compile(
    r"^https?://(?:www\.)?legislation\.gov\.uk/(?:id/)?(?P<path>[a-z]+/\d{4}/\d+(?:/[a-z]+/[0-9A-Za-z]+)*)/?$"
)
_LEGISLATION_SYSTEMS = frozenset(
    {
        "https://www.legislation.gov.uk",
        "http://www.legislation.gov.uk",
        "https://legislation.gov.uk",
        "http://www.legislation.gov.uk/id",
    }
)


@dataclass(frozen=True, slots=True)
class Purpose:
    """One sharing purpose of the code list."""

    code: str  # short name, e.g. children-act-1989-s47
    uri: str  # canonical URI (legislation.gov.uk identifier form, or the project's)
    display: str

    def coding(self) -> dict[str, str | None]:
        return {"code": self.uri, "system": SHARING_PURPOSE_SYSTEM, "display": self.display}


PURPOSES: tuple[Purpose, ...] = (
    Purpose(
        "children-act-1989-s17",
        _ID_BASE + "ukpga/1989/41/section/17",
        "Children Act 1989 s17 (child in need)",
    ),
    Purpose(
        "children-act-1989-s47",
        _ID_BASE + "ukpga/1989/41/section/47",
        "Children Act 1989 s47 (enquiry into significant harm)",
    ),
    Purpose(
        "care-act-2014-s42",
        _ID_BASE + "ukpga/2014/23/section/42",
        "Care Act 2014 s42 (adult safeguarding enquiry)",
    ),
    Purpose(
        "data-sharing-agreement",
        "https://mais-exchange.org/purpose/data-sharing-agreement",
        "Under a data sharing agreement between the parties",
    ),
)
_BY_URI: Mapping[str, Purpose] = {p.uri: p for p in PURPOSES}
_BY_CODE: Mapping[str, Purpose] = {p.code: p for p in PURPOSES}

DATA_CONTACT = "https://mais-exchange.org/data/contact"
DATA_INVOLVEMENT = "https://mais-exchange.org/data/involvement"
DATA_CATEGORIES: Mapping[str, str] = {"contact": DATA_CONTACT, "involvement": DATA_INVOLVEMENT}
"""Short names of the data categories the exchange understands, and their URIs."""


def canonical_purpose_uri(uri: str) -> str:
    """A legislation.gov.uk URI in its identifier form (``…/id/…``); any other URI unchanged."""
    match = _LEGISLATION.match(uri.strip())
    return _ID_BASE + match["path"] if match else uri.strip()


def purpose_from_text(text: str) -> Purpose | None:
    """The purpose named by a short code or by a URI in any accepted form, or ``None``."""
    return _BY_CODE.get(text.strip()) or _BY_URI.get(canonical_purpose_uri(text))


def purpose_from_coding(coding: Mapping[str, object]) -> Purpose | None:
    """The purpose a Coding names (our system, or the legislation site with a path code), or ``None``."""
    code, system = str(coding.get("code", "")), str(coding.get("system", "")).rstrip("/")
    if system in _LEGISLATION_SYSTEMS:
        return purpose_from_text(f"{system}/{code.lstrip('/')}")
    if system == SHARING_PURPOSE_SYSTEM:
        return purpose_from_text(code)
    return None


def canonical_data(name: str) -> str:
    """A data category's URI from its short name; any other data name or URI unchanged."""
    return DATA_CATEGORIES.get(name.strip(), name.strip())
