"""Which PersonFinder a responder uses."""

from __future__ import annotations

from services.enquiry._exact import ExactFinder
from services.enquiry._records import PersonFinder

__all__ = ["default_finder"]


def default_finder(agency: str) -> PersonFinder:
    """The finder for ``agency``'s own records."""
    return ExactFinder()
