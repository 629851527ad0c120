"""A standard Person, normalised once into what matching compares (:class:`MatchRecord`).

:func:`normalise` takes the ``person`` of a ``PersonRecorded`` event as the adapters produce it
(the Avro value as a dict: dates as :class:`datetime.date`, or as ISO text in ``mais translate``
output) and applies PUB03's normalisation: identifiers by system, names without case,
punctuation, diacritics, titles or placeholder names, partial dates of birth with their
accuracy, postcodes without spaces, address lines and UPRNs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

from exchange.identifiers import NHS_NUMBER_SYSTEM, UPN_SYSTEM, is_valid_nhs_number
from exchange.matching._names import canonical_family, canonical_given, clean_name, name_parts

__all__ = ["BirthDate", "MatchRecord", "normalise", "normalise_identifier", "normalise_postcode"]

_EPOCH = date(1970, 1, 1)
_FORMER_USES = frozenset({"old", "maiden"})
_IGNORED_USES = frozenset({"anonymous"})


class BirthDate(NamedTuple):
    """A date of birth whose unknown parts (accuracy ``U``) are ``None``; estimated parts are kept."""

    year: int | None
    month: int | None
    day: int | None

    @property
    def complete(self) -> bool:
        """True when year, month and day are all known."""
        return self.year is not None and self.month is not None and self.day is not None


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """One agency's record of a person, normalised for matching (immutable; build with :func:`normalise`).

    ``key`` identifies the record (the Kafka key ``system|value`` of its first identifier) and
    ``source`` the agency holding it. Every text field is upper case ASCII without punctuation;
    tuples list current values before former ones.
    """

    key: str
    source: str
    identifiers: tuple[tuple[str, str], ...]
    """(system, normalised value) pairs, in the record's order."""
    nhs_number: str | None
    """The record's NHS number when it passes the modulus 11 check (else ``None``)."""
    given_names: tuple[str, ...]
    """First given name first, then middle names (placeholders such as BABY removed)."""
    preferred_names: tuple[str, ...]
    """Names the person is known by: preferred names and names recorded with use ``nickname``."""
    family_names: tuple[str, ...]
    """Current family names first (each hyphenated part and the joined form), then former ones."""
    given_forms: frozenset[str]
    """Every formal name the first given and preferred names may stand for (nicknames mapped)."""
    birth_date: BirthDate | None
    postcodes: tuple[str, ...]
    """Postcodes without spaces (``"MF31AB"``), current addresses first."""
    address_lines: tuple[str, ...]
    """First address lines, cleaned like names (``"12 HIGH STREET"``)."""
    cities: tuple[str, ...]
    uprns: tuple[str, ...]
    sex: str | None = None
    """Stated gender or phenotypic sex as recorded; kept for display, not used in scores (PUB03)."""

    @property
    def has_name(self) -> bool:
        """False for records that carry no usable name (the CIN census, placeholders only)."""
        return bool(self.given_names or self.family_names)


def normalise_identifier(system: str, value: str) -> tuple[str, str]:
    """PUB03 identifier normalisation: NHS numbers as digits only, UPNs upper case, any other
    system's value with whitespace removed (LA child ids stay namespaced by their LA's system)."""
    system = system.strip()
    if system == NHS_NUMBER_SYSTEM:
        return system, "".join(ch for ch in value if ch.isdigit())
    compact = "".join(value.split())
    if system == UPN_SYSTEM:
        return system, compact.upper()
    return system, compact


def normalise_postcode(raw: str) -> str:
    """Upper case without spaces or punctuation (``"mf3 1ab"`` -> ``"MF31AB"``)."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def _birth_date(value: Any) -> BirthDate | None:
    if not isinstance(value, Mapping):
        return None
    raw = value.get("date")
    if isinstance(raw, date):
        day = raw
    elif isinstance(raw, int):
        day = _EPOCH + timedelta(days=raw)
    elif isinstance(raw, str):
        try:
            day = date.fromisoformat(raw[:10])
        except ValueError:
            return None
    else:
        return None
    accuracy = value.get("accuracyIndicator") or "AAA"  # day, month, year
    return BirthDate(
        None if accuracy[2] == "U" else day.year,
        None if accuracy[1] == "U" else day.month,
        None if accuracy[0] == "U" else day.day,
    )


def _add(target: list[str], values: Sequence[str]) -> None:
    for value in values:
        if value and value not in target:
            target.append(value)


def _family_forms(raw: str) -> list[str]:
    parts = name_parts(raw)
    if not parts:
        return []
    forms = [canonical_family("".join(parts))]
    if len(parts) > 1:
        forms.extend(canonical_family(p) for p in parts)
    return forms


def _names(names: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[str], list[str], list[str]]:
    given: list[str] = []
    preferred: list[str] = []
    family: list[str] = []
    former: list[str] = []
    for name in names:
        use = name.get("use")
        if use in _IGNORED_USES:
            continue
        givens = [w for g in name.get("givenName") or () for w in name_parts(g)]
        families = [f for raw in name.get("familyName") or () for f in _family_forms(raw)]
        if name.get("preferredName"):
            _add(preferred, name_parts(name["preferredName"]))
        if use == "nickname":
            _add(preferred, givens)
            _add(family, families)
        elif use in _FORMER_USES:
            _add(former, families)
            _add(preferred, givens)
        else:
            _add(given, givens)
            _add(family, families)
    return given, preferred, family, former


def normalise(person: Mapping[str, Any], *, source: str, key: str | None = None) -> MatchRecord:
    """The :class:`MatchRecord` of a standard Person (the ``person`` of a ``PersonRecorded`` value).

    ``source`` names the agency holding the record (e.g. the ``<agency>`` of its topic); ``key``
    is the record's key (defaults to ``system|value`` of its first identifier). Missing or empty
    fields are simply absent from the result: this never raises on a conformant Person.
    """
    identifiers: list[tuple[str, str]] = []
    for ident in person.get("identifier") or ():
        pair = normalise_identifier(str(ident.get("system") or ""), str(ident.get("value") or ""))
        if pair[0] and pair[1] and pair not in identifiers:
            identifiers.append(pair)
    nhs = next((v for s, v in identifiers if s == NHS_NUMBER_SYSTEM and is_valid_nhs_number(v)), None)
    if key is None:
        first = (person.get("identifier") or [{}])[0]
        key = f"{first.get('system', '')}|{first.get('value', '')}"
    given, preferred, family, former = _names(person.get("name") or ())
    _add(family, former)
    forms: set[str] = set()
    for name in given[:1] + preferred:
        forms |= canonical_given(name)
    postcodes: list[str] = []
    lines: list[str] = []
    cities: list[str] = []
    uprns: list[str] = []
    addresses = sorted(person.get("address") or (), key=lambda a: a.get("use") == "old")
    for address in addresses:
        _add(postcodes, [normalise_postcode(address.get("postcode") or "")])
        _add(lines, [clean_name(address.get("line1") or "")])
        _add(cities, [clean_name(address.get("city") or "")])
        _add(uprns, ["".join((address.get("UPRN") or "").split()).lstrip("0")])
    sex = person.get("genderCode") or person.get("sexCode")
    return MatchRecord(
        key=key,
        source=source,
        identifiers=tuple(identifiers),
        nhs_number=nhs,
        given_names=tuple(given),
        preferred_names=tuple(p for p in preferred if p not in given[:1]),
        family_names=tuple(family),
        given_forms=frozenset(forms),
        birth_date=_birth_date(person.get("dateOfBirth")),
        postcodes=tuple(postcodes),
        address_lines=tuple(lines),
        cities=tuple(cities),
        uprns=tuple(uprns),
        sex=str(sex) if sex else None,
    )
