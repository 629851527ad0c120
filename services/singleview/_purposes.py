"""Why a practitioner searches: the purposes a SingleView accepts, keyed by legislation URI."""

from __future__ import annotations

__all__ = ["PURPOSES", "purpose_label"]

PURPOSES: dict[str, str] = {
    "http://www.legislation.gov.uk/id/ukpga/1989/41/section/47":
        "Section 47 enquiry (Children Act 1989): a child may be suffering significant harm",
    "http://www.legislation.gov.uk/id/ukpga/1989/41/section/17":
        "Section 17 assessment (Children Act 1989): a child in need",
    "http://www.legislation.gov.uk/id/ukpga/2014/23/section/42":
        "Section 42 enquiry (Care Act 2014): an adult at risk of abuse or neglect",
    "https://mais-exchange.org/purpose/data-sharing-agreement":
        "Under the partnership's data sharing agreement",
}  # fmt: skip
"""Purpose code (a URI, sent as the audit entry's ``ce_sharingpurpose``) -> what the user reads."""


def purpose_label(code: str) -> str | None:
    return PURPOSES.get(code)
