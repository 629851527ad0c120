"""The tabular adapter's engine: find the mapping an export matches, cut it into rows, map a row.

Mappings come from the files shipped in ``adapters/tabular/mappings/`` plus any named in
``MAIS_TABULAR_MAPPINGS`` (TOML files or folders of them, separated by ``os.pathsep``). A file is
matched to the mapping whose ``recognise`` columns its header (CSV) or first object (JSON lines)
holds; the most specific match wins. Each record is the row as JSON with the mapping's name, so
it can be read again, and sent to the DLQ, on its own; a row or line that cannot be read is a
record of its own (rejected alone, the rest of the file flows).

A row is a person and, optionally, episodes and life events. A person's field that cannot be
used (a date that is not one, a code the mapping does not know, a malformed telephone number or
postcode) is left out with a warning; an episode or event that cannot be identified or dated is
left out with the warning ``occurrence-left-out``; the person still flows.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from datetime import date, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from adapters import _common
from adapters._common import DFE_ETHNICITY, local_midnight, parse_date
from adapters._csv import cell, decode, read_rows
from adapters._fields import optional, postcode, telephone, to_utc
from adapters._json import parse_json
from adapters._sniff import looks_like
from adapters._standard import (
    EPISODE_CODE_SYSTEM,
    EVENT_CODE_SYSTEM,
    coding,
    episode_recorded,
    life_event_recorded,
    person_recorded,
    provenance,
    subject,
)
from adapters.tabular._model import Coded, EpisodeRule, EventRule, Mapping, PersonRule, load_mapping
from exchange.adapter import AdapterContext, SourceRecord, StandardEvent
from exchange.errors import DataError
from exchange.identifiers import (
    Identifier,
    Warn,
    checked_la_child_id,
    checked_nhs_number,
    checked_upn,
    local_system,
)

__all__ = ["known_mappings", "map_row", "split_rows"]

BUILT_IN = Path(__file__).parent / "mappings"
_MAX_ID = 64
_WRONG_WIDTH = "row does not have the header's number of fields"


def known_mappings() -> dict[str, Mapping]:
    """Every mapping available now, by name (built-in ones, then ``MAIS_TABULAR_MAPPINGS``)."""
    return _load_all(os.environ.get("MAIS_TABULAR_MAPPINGS", ""))


@lru_cache(maxsize=8)
def _load_all(extra: str) -> dict[str, Mapping]:
    paths = sorted(BUILT_IN.glob("*.toml"))
    for part in filter(None, extra.split(os.pathsep)):
        path = Path(part)
        paths.extend(sorted(path.glob("*.toml")) if path.is_dir() else [path])
    found: dict[str, Mapping] = {}
    for path in paths:
        mapping = load_mapping(path)
        found[mapping.source.name] = mapping
    return found


def _choose(columns: set[str], fmt: str, delimiter: str | None = None) -> Mapping:
    candidates = [
        m
        for m in known_mappings().values()
        if m.source.format == fmt
        and (delimiter is None or m.source.delimiter == delimiter)
        and set(m.source.recognise) <= columns
    ]
    if not candidates:
        raise DataError("no tabular mapping recognises this file's columns", stage="parse")
    return max(candidates, key=lambda m: len(m.source.recognise))


def _record(mapping: Mapping, row: dict[str, Any], origin: str) -> SourceRecord:
    body = json.dumps({"mapping": mapping.source.name, "row": row}, ensure_ascii=False)
    return SourceRecord(body.encode("utf-8"), origin)


def split_rows(data: bytes, origin: str) -> Iterator[SourceRecord]:
    """One record per row (CSV) or per line (JSON lines) of an export some mapping recognises."""
    text = decode(data)
    if text.lstrip().startswith("{"):
        yield from _split_jsonl(text, origin)
        return
    lines = text.splitlines()
    first = lines[0] if lines else ""
    mapping: Mapping | None = None
    for delimiter in dict.fromkeys(m.source.delimiter for m in known_mappings().values()):
        try:
            header = next(csv.reader([first], delimiter=delimiter), [])
            mapping = _choose({h.strip() for h in header}, "csv", delimiter)
            break
        except (DataError, csv.Error):
            continue
    if mapping is None:
        raise DataError(
            f"no tabular mapping recognises this file's header row: it looks like {looks_like(data)}",
            stage="parse",
        )
    rows = read_rows(text, mapping.source.delimiter)
    _, columns, _ = next(rows)
    names = [c.strip() for c in columns or []]
    for line, row, raw in rows:
        if row is None or len(row) != len(names):
            # keep the row's place: it becomes a reject of its own, the rest of the file flows
            problem = (
                "row is not valid CSV" if row is None else "row does not have the header's number of fields"
            )
            body = json.dumps(
                {"mapping": mapping.source.name, "problem": problem, "raw": raw}, ensure_ascii=False
            )
            yield SourceRecord(body.encode("utf-8"), f"{origin}:{line}")
        elif any(v.strip() for v in row):
            yield _record(mapping, dict(zip(names, row, strict=True)), f"{origin}:{line}")


def _split_jsonl(text: str, origin: str) -> Iterator[SourceRecord]:
    mapping: Mapping | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = parse_json(line, f"line {number}")
        except DataError:
            yield SourceRecord(line.encode("utf-8"), f"{origin}:{number}")
            continue
        if not isinstance(row, dict):
            yield SourceRecord(line.encode("utf-8"), f"{origin}:{number}")
            continue
        if mapping is None:
            mapping = _choose(_paths(row), "jsonl")
        yield _record(mapping, row, f"{origin}:{number}")


def _paths(row: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in row.items():
        found.add(prefix + key)
        if isinstance(value, dict):
            found |= _paths(value, f"{prefix}{key}.")
    return found


def _get(row: dict[str, Any], column: str) -> str:
    node: Any = row.get(column) if column in row else row
    if column not in row:
        for part in column.split("."):
            node = node.get(part) if isinstance(node, dict) else None
    if node is None or isinstance(node, dict | list):
        return ""
    return cell(str(node), column)


def map_row(record: SourceRecord, context: AdapterContext) -> list[StandardEvent]:
    """The events of one record made by :func:`split_rows`."""
    try:
        body = parse_json(record.data, "record")
    except DataError:
        raise DataError("record is not valid JSON", stage="parse") from None
    if isinstance(body, dict) and isinstance(body.get("problem"), str):
        raise DataError(str(body["problem"]), stage="parse")
    if not isinstance(body, dict) or not isinstance(body.get("row"), dict):
        raise DataError("record is not a row of a recognised export", stage="parse")
    mapping = known_mappings().get(str(body.get("mapping")))
    if mapping is None:
        raise DataError("record names a mapping that is not installed", stage="parse")
    row: dict[str, Any] = body["row"]
    recorded = _moment(row, mapping.source.recorded_at, mapping) if mapping.source.recorded_at else None
    prov = provenance(context, recorded or _common.now())
    person, key = _person(mapping.person, row, mapping, context)
    events = [person_recorded(person, key=key, prov=prov)]
    for episode_rule in mapping.episode:
        if _applies(episode_rule, row):
            build = partial(
                _episode, episode_rule, row, mapping=mapping, person=key, context=context, prov=prov
            )
            events += _unless_unusable(episode_rule.kind, context, build)
    for event_rule in mapping.event:
        if _applies(event_rule, row):
            build = partial(_event, event_rule, row, mapping=mapping, person=key, context=context, prov=prov)
            events += _unless_unusable(event_rule.kind, context, build)
    return events


def _unless_unusable(
    kind: str, context: AdapterContext, build: Callable[[], StandardEvent]
) -> list[StandardEvent]:
    """The event ``build`` makes, or none (with a warning) when it cannot be identified or dated."""
    try:
        return [build()]
    except DataError as exc:
        context.warn("occurrence-left-out", f"{kind}: {exc.message}; left out")
        return []


def _day(row: dict[str, Any], column: str | None, mapping: Mapping) -> date | None:
    return (
        parse_date(_get(row, column), column, formats=tuple(mapping.source.date_formats)) if column else None
    )


def _moment(row: dict[str, Any], column: str | None, mapping: Mapping) -> datetime | None:
    if not column:
        return None
    raw = _get(row, column)
    if not raw:
        return None
    for fmt in mapping.source.datetime_formats:
        try:
            moment = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_common.ENGLAND)
        return to_utc(moment, column)
    day = _day(row, column, mapping)
    return local_midnight(day) if day else None


def _code(coded: Coded | None, row: dict[str, Any], warn: Warn, warning: str) -> str | None:
    if coded is None:
        return None
    raw = _get(row, coded.column)
    if not raw:
        return None
    table = DFE_ETHNICITY if coded.map == "dfe-ethnicity" else coded.map
    code = table.get(raw) or table.get(raw.upper())
    if code is None:
        warn(warning, f"{coded.column} is not in the mapping's code table; left out")
    return code


def _identifiers(rule: PersonRule, row: dict[str, Any], context: AdapterContext) -> list[Identifier]:
    found: list[Identifier] = []
    org = context.organisation_id
    for ident in rule.identifier:
        raw = _get(row, ident.column)
        item: Identifier | None = None
        if ident.type == "nhs-number":
            item = checked_nhs_number(raw, where=ident.column, warn=context.warn)
        elif ident.type in ("upn", "former-upn"):
            item = checked_upn(raw, where=ident.column, warn=context.warn, former=ident.type == "former-upn")
        elif ident.type == "la-child-id":
            item = checked_la_child_id(raw, la_code=org, where=ident.column, warn=context.warn)
        elif raw and len(raw) <= _MAX_ID and raw.isprintable():
            item = Identifier(local_system(org, ident.kind), raw)
        if item is not None and item not in found:
            found.append(item)
    return found


def _person(
    rule: PersonRule, row: dict[str, Any], mapping: Mapping, context: AdapterContext
) -> tuple[dict[str, Any], Identifier]:
    identifiers = _identifiers(rule, row, context)
    key_column = next(i.column for i in rule.identifier if i.type == "local")
    key = next((i for i in identifiers if "/local/" in i.system), None)
    if key is None:
        raise DataError(f"{key_column} (the record key) is empty or unusable", stage="map")
    family = _get(row, rule.family_name) if rule.family_name else ""
    given = [part for column in rule.given_names for part in _get(row, column).split()]
    warn = context.warn
    person: dict[str, Any] = {
        "identifier": [i.as_record() for i in identifiers],
        "name": [{"familyName": [family] if family else [], "givenName": given}] if family or given else [],
        "genderCode": _code(rule.gender, row, warn, "unknown-gender-code"),
        "sexCode": _code(rule.sex, row, warn, "unknown-sex-code"),
        "ethnicityCode": _code(rule.ethnicity, row, warn, "unknown-ethnicity-code"),
        "contact": _contact(rule, row, warn),
    }
    born = optional("invalid-date-of-birth", warn, lambda: _day(row, rule.date_of_birth, mapping))
    if born is not None:
        person["dateOfBirth"] = {"date": born, "accuracyIndicator": "AAA"}
    if rule.date_of_death and _get(row, rule.date_of_death):
        person["isDeceased"] = True
        died = optional("invalid-date-of-death", warn, lambda: _day(row, rule.date_of_death, mapping))
        if died is not None:
            person["deceasedDate"] = {"date": died, "accuracyIndicator": "AAA"}
    if rule.address is not None:
        parts = {name: _get(row, column) if column else "" for name, column in rule.address}
        parts["postcode"] = postcode(parts["postcode"], rule.address.postcode or "postcode", warn)
        if parts["line1"] or parts["postcode"]:
            parts["line2"] = parts["line2"] or None  # type: ignore[assignment]
            person["address"] = [parts]
    return person, key


def _contact(rule: PersonRule, row: dict[str, Any], warn: Warn) -> list[dict[str, Any]]:
    phones = [telephone(_get(row, c), c, warn) for c in rule.telephone]
    numbers = [p for p in phones if p]
    emails = [v for v in (_get(row, c) for c in rule.email) if v]
    return [{"name": None, "telephone": numbers, "email": emails}] if numbers or emails else []


def _applies(rule: EpisodeRule | EventRule, row: dict[str, Any]) -> bool:
    return rule.when is None or _get(row, rule.when.column) in rule.when.equals


def _occurrence(
    rule: EpisodeRule | EventRule, row: dict[str, Any], mapping: Mapping, context: AdapterContext, system: str
) -> tuple[Identifier, dict[str, Any]]:
    parts = [_get(row, column) for column in rule.id]
    if not all(parts):
        raise DataError(f"{', '.join(rule.id)} (the {rule.kind} id) is empty", stage="map")
    ident = Identifier(local_system(context.organisation_id, rule.kind), "/".join(parts))
    start = _moment(row, rule.start, mapping)
    if start is None:
        raise DataError(f"{rule.start} is empty", stage="map")
    end = _moment(row, rule.end, mapping)
    if end is not None and end < start:
        raise DataError(f"{rule.end} is before {rule.start}", stage="map")
    code = rule.code or _code(rule.code_from, row, context.warn, "unknown-occurrence-code")
    if code is None:
        raise DataError(f"{rule.kind} has no type code", stage="map")
    location = _get(row, rule.location) if rule.location else ""
    facts = {
        "identifier": [ident.as_record()],
        "type": [coding(system, code)],
        "timeInformation": [{"startDateTime": start, "endDateTime": end}],
        "location": [location] if location else [],
    }
    return ident, facts


def _episode(
    rule: EpisodeRule,
    row: dict[str, Any],
    *,
    mapping: Mapping,
    person: Identifier,
    context: AdapterContext,
    prov: Any,
) -> StandardEvent:
    ident, facts = _occurrence(rule, row, mapping, context, EPISODE_CODE_SYSTEM)
    facts["subjectPerson"] = [subject(person)]
    facts["relatedService"] = [
        Identifier(local_system(context.organisation_id, "service"), rule.service).as_record()
    ]
    return episode_recorded(facts, key=ident, prov=prov)


def _event(
    rule: EventRule,
    row: dict[str, Any],
    *,
    mapping: Mapping,
    person: Identifier,
    context: AdapterContext,
    prov: Any,
) -> StandardEvent:
    ident, facts = _occurrence(rule, row, mapping, context, EVENT_CODE_SYSTEM)
    facts["subjectPerson"] = [subject(person)]
    return life_event_recorded(facts, key=ident, prov=prov)
