"""Names as PUB03 asks them to be compared: one case, no punctuation or diacritics, no titles, no
placeholder names, and nicknames or spelling variants mapped to the names they stand for.

The nickname list is the ``nicknames`` package (the list NHS England's linkage model started
from) plus the project's own UK additions in ``uk_names.csv`` (``NAME_FIELD, ORIGINAL_NAME,
MAPPED_NAME`` as in the Person_ID handbook's name mapping): names common in England that the
package lacks (Alfie, Isla, Muhammad ...) and family-name spelling variants (Smythe -> Smith).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import cache, lru_cache
from importlib.resources import files

__all__ = [
    "PLACEHOLDER_NAMES",
    "TITLES",
    "canonical_family",
    "canonical_given",
    "clean_name",
    "name_parts",
]

TITLES = frozenset(
    {"MR", "MRS", "MS", "MISS", "MX", "MASTER", "DR", "PROF", "REV", "SIR", "DAME", "LADY", "LORD",
     "SR", "JR", "SNR", "JNR"}
)  # fmt: skip
"""Honorifics and suffixes dropped from names before comparing them."""

PLACEHOLDER_NAMES = frozenset(
    {
        "BABY", "BABYBOY", "BABYGIRL", "BOY", "GIRL", "INFANT", "NEWBORN", "TWIN", "TRIPLET",
        "UNKNOWN", "UNK", "NOTKNOWN", "NK", "UNNAMED", "NONAME", "ANON", "ANONYMOUS", "XX", "XXX",
        "ONE", "TWO", "THREE", "I", "II", "III", "1", "2", "3", "A", "B", "C",
    }
)  # fmt: skip
"""Tokens that are not a name: a newborn registered as "BABY" or "TWIN 1" has no given name yet.

Single letters count here because a placeholder like "TWIN A" must vanish whole; an initial on its
own is never enough to compare given names by anyway.
"""

_NOT_LETTER = re.compile(r"[^A-Z0-9 ]+")
_SEPARATORS = re.compile(r"[\s\-_.,/]+")
_PLACEHOLDER_PHRASES = re.compile(r"^(?:BABY|INFANT|TWIN|TRIPLET)\b|\b(?:NOT KNOWN|UNKNOWN)\b")


@lru_cache(maxsize=65536)
def clean_name(raw: str) -> str:
    """Upper case, diacritics folded to ASCII, hyphens and separators as spaces, other punctuation
    dropped (``"O'Brien-Núñez"`` -> ``"OBRIEN NUNEZ"``)."""
    folded = unicodedata.normalize("NFKD", raw)
    ascii_only = folded.encode("ascii", "ignore").decode("ascii").upper()
    spaced = _SEPARATORS.sub(" ", ascii_only)
    return " ".join(_NOT_LETTER.sub("", spaced).split())


@lru_cache(maxsize=65536)
def name_parts(raw: str) -> tuple[str, ...]:
    """The words of one name entry that are a name: no titles, no placeholders ("BABY", "TWIN 1").

    A whole entry that starts with a placeholder word (``"Baby of Smith"``, ``"Twin 2"``) yields
    nothing: the given name is not known yet.
    """
    cleaned = clean_name(raw)
    if not cleaned or _PLACEHOLDER_PHRASES.search(cleaned):
        return ()
    return tuple(w for w in cleaned.split() if w not in TITLES and w not in PLACEHOLDER_NAMES)


@cache
def _mappings() -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """(given name -> the formal names it may stand for, family variant -> family name)."""
    given: dict[str, set[str]] = {}

    def relate(formal: str, variant: str) -> None:
        formal, variant = clean_name(formal), clean_name(variant)
        if not formal or not variant:
            return
        given.setdefault(formal, {formal})
        given.setdefault(variant, {variant}).add(formal)

    package = files("nicknames").joinpath("names.csv")
    with package.open("r", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            relate(row["name1"], row["name2"])
    family: dict[str, str] = {}
    ours = files("exchange.matching").joinpath("uk_names.csv")
    with ours.open("r", encoding="utf-8") as handle:
        for row in csv.DictReader(line for line in handle if not line.startswith("#")):
            if row["NAME_FIELD"] == "GIVEN_NAME":
                relate(row["MAPPED_NAME"], row["ORIGINAL_NAME"])
            elif row["NAME_FIELD"] == "FAMILY_NAME":
                family[clean_name(row["ORIGINAL_NAME"])] = clean_name(row["MAPPED_NAME"])
    return {name: frozenset(formals) for name, formals in given.items()}, family


@lru_cache(maxsize=65536)
def canonical_given(name: str) -> frozenset[str]:
    """The formal given names ``name`` (already cleaned) may stand for, itself included.

    ``"BECCA"`` -> ``{"BECCA", "REBECCA"}``; a name on no list stands for itself only.
    """
    return _mappings()[0].get(name, frozenset((name,)))


def canonical_family(name: str) -> str:
    """The family name a spelling variant maps to (``"SMYTHE"`` -> ``"SMITH"``), else ``name``."""
    return _mappings()[1].get(name, name)
