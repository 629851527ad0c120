"""The read side: search, and one person's page ("who knows this person, and whom do I call?").

Everything returned is plain JSON-ready data; the API sends it as it is and the page renders it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from exchange.identifiers import NHS_NUMBER_SYSTEM
from services.singleview._db import Connection
from services.singleview._directory import Directory
from services.singleview._linking import Linker, SearchQuery, normalise_name, normalise_postcode

__all__ = ["current_person_id", "person_ids_for_subjects", "person_view", "search_people"]

NHS_NUMBER_LENGTH = 10
_EXACT_LIMIT = 200
_ACCESS_PATHS = (
    ("family_name", "birth_date"),
    ("birth_date",),
    ("postcode",),
    ("family_name",),
    ("given_name",),
)
"""Indexes of ``sv_person_record`` for the exact look-up, most selective first: a date of birth
(with the family name when typed) is shared by a few dozen people in a million and a postcode by
a few households, while a common family or given name is shared by tens of thousands."""


def _iso(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _display_name(person: dict[str, Any]) -> str:
    for name in person.get("name") or []:
        parts = [*(name.get("givenName") or [])[:1], *(name.get("familyName") or [])]
        if parts:
            return " ".join(p.title() if p.isupper() else p for p in parts)
    return ""


def _records(db: Connection, person_id: str) -> list[tuple[str, str, str, int, dict[str, Any]]]:
    rows = db.query(
        "SELECT r.record_key, r.agency, r.publisher, r.recorded_at, r.person_json "
        "FROM sv_link l JOIN sv_person_record r ON r.record_key = l.record_key WHERE l.person_id = ? "
        "ORDER BY r.agency, r.record_key",
        (person_id,),
    )
    return [(k, a, p, int(t), json.loads(pj)) for k, a, p, t, pj in rows]


def current_person_id(db: Connection, person_id: str) -> str | None:
    """Where a retired person id points now (two persons turned out to be one), or ``None``."""
    seen = {person_id}
    found = None
    for _ in range(20):
        rows = db.query("SELECT into_id FROM sv_person_redirect WHERE person_id = ?", (person_id,))
        if not rows or rows[0][0] in seen:
            return found
        person_id = found = str(rows[0][0])
        seen.add(person_id)
    return found


def _subject_keys(db: Connection, record_keys: list[str]) -> list[str]:
    marks = db.in_list(len(record_keys))
    ids = db.query(f"SELECT id_key FROM sv_identifier WHERE record_key IN {marks}", record_keys)  # noqa: S608
    retired = db.query(f"SELECT retired_key FROM sv_merged WHERE survivor_key IN {marks}", record_keys)  # noqa: S608
    return sorted({*record_keys, *(r[0] for r in ids), *(r[0] for r in retired)})


def person_ids_for_subjects(db: Connection, subject_keys: Iterable[str]) -> set[str]:
    """Person ids whose records are named by any of ``subject_keys`` (for live updates)."""
    keys = sorted(set(subject_keys))
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = db.in_list(len(chunk))
        rows = db.query(
            "SELECT l.person_id FROM sv_link l WHERE l.record_key IN "  # noqa: S608 - placeholders only
            f"(SELECT record_key FROM sv_identifier WHERE id_key IN {marks} "
            f"UNION SELECT survivor_key FROM sv_merged WHERE retired_key IN {marks})",
            (*chunk, *chunk),
        )
        found |= {str(r[0]) for r in rows}
    return found


def _episodes(db: Connection, subjects: list[str]) -> list[dict[str, Any]]:
    marks = db.in_list(len(subjects))
    rows = db.query(
        "SELECT DISTINCT e.episode_key, e.agency, e.start_at, e.end_at, e.episode_json FROM sv_episode e "  # noqa: S608
        f"JOIN sv_episode_subject s ON s.episode_key = e.episode_key WHERE s.subject_key IN {marks}",
        subjects,
    )
    episodes = []
    for key, agency, start, end, body in rows:
        episode = json.loads(body) if body else {}
        types = episode.get("type") or []
        lead = next(
            (p for p in episode.get("relatedProfessional") or [] if p["involvement"]["code"] == "PPRF"),
            (episode.get("relatedProfessional") or [None])[0],
        )
        episodes.append(
            {
                "key": key,
                "agency": agency,
                "type": [t.get("display") or t["code"] for t in types] or ["service episode"],
                "service": [s["value"] for s in episode.get("relatedService") or []],
                "start": _iso(start),
                "end": _iso(end),
                "open": end is None,
                "lead_professional": lead["professional"]["value"] if lead else None,
                "location": episode.get("location") or [],
            }
        )
    episodes.sort(key=lambda e: (not e["open"], -(_ts(e["start"]))))
    return episodes


def _ts(iso: str | None) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() if iso else 0.0


def _timeline(db: Connection, subjects: list[str], episodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    marks = db.in_list(len(subjects))
    rows = db.query(
        "SELECT DISTINCT e.event_key, e.agency, e.start_at, e.event_json FROM sv_life_event e "  # noqa: S608
        f"JOIN sv_life_event_subject s ON s.event_key = e.event_key WHERE s.subject_key IN {marks}",
        subjects,
    )
    items = []
    for key, agency, start, body in rows:
        event = json.loads(body)
        what = ", ".join(t.get("display") or t["code"] for t in event.get("type") or [])
        items.append({"key": key, "agency": agency, "when": _iso(start), "what": what, "kind": "life event"})
    for episode in episodes:
        what = ", ".join(episode["type"])
        if episode["start"]:
            items.append(
                {
                    "key": episode["key"],
                    "agency": episode["agency"],
                    "when": episode["start"],
                    "what": f"{what} started",
                    "kind": "episode",
                }
            )
        if episode["end"]:
            items.append(
                {
                    "key": episode["key"],
                    "agency": episode["agency"],
                    "when": episode["end"],
                    "what": f"{what} ended",
                    "kind": "episode",
                }
            )
    items.sort(key=lambda i: -_ts(i["when"]))
    return items


def person_view(
    db: Connection, linker: Linker, person_id: str, directory: Directory
) -> dict[str, Any] | None:
    """Everything the person page shows, or ``None`` when no record belongs to ``person_id``."""
    records = _records(db, person_id)
    if not records:
        return None
    keys = [r[0] for r in records]
    reasons = linker.why_linked(keys)
    for reason in reasons.values():
        for link in reason["links"]:
            link["agency_name"] = directory.get(link["agency"]).name
    subjects = _subject_keys(db, keys)
    episodes = _episodes(db, subjects)
    agencies: dict[str, dict[str, Any]] = {}
    for key, agency, publisher, recorded, person in records:
        contact = directory.get(agency)
        entry = agencies.setdefault(
            agency,
            {
                "agency": agency,
                "name": contact.name,
                "kind": contact.kind,
                "known_as": contact.known_as,
                "contact": {"team": contact.team, "telephone": contact.telephone, "email": contact.email},
                "records": [],
                "involvements": [],
            },
        )
        entry["records"].append(
            {
                "record_key": key,
                "publisher": publisher,
                "recorded_at": _iso(recorded),
                "person": person,
                "display_name": _display_name(person),
                "why_linked": reasons.get(key) or {"rule": "not linked yet", "links": []},
            }
        )
    for episode in episodes:
        if episode["agency"] not in agencies:
            contact = directory.get(episode["agency"])
            agencies[episode["agency"]] = {
                "agency": episode["agency"],
                "name": contact.name,
                "kind": contact.kind,
                "known_as": contact.known_as,
                "records": [],
                "involvements": [],
                "contact": {"team": contact.team, "telephone": contact.telephone, "email": contact.email},
            }
        agencies[episode["agency"]]["involvements"].append(episode)
    for entry in agencies.values():
        entry["open"] = any(e["open"] for e in entry["involvements"])
    ordered = sorted(
        agencies.values(),
        key=lambda a: (
            not a["open"],
            -max((_ts(e["start"]) for e in a["involvements"]), default=0),
            a["agency"],
        ),
    )
    first = records[0][4]
    names = [n for n in (_display_name(r[4]) for r in records) if n]
    births = sorted(str(b) for b in {(r[4].get("dateOfBirth") or {}).get("date") for r in records} - {None})
    return {
        "person_id": person_id,
        "display_name": names[0] if names else "(no name recorded)",
        "birth_dates": births,
        "agencies": ordered,
        "related_people": _related(db, records),
        "timeline": _timeline(db, subjects, episodes),
        "possible_matches": _possible(db, linker, keys, person_id),
        "record_keys": keys,
        "sex": first.get("genderCode") or first.get("sexCode"),
    }


def _related(db: Connection, records: list[Any]) -> list[dict[str, Any]]:
    related = []
    for _key, agency, _p, _t, person in records:
        for link in person.get("relatedPerson") or []:
            id_key = f"{link['identifier']['system']}|{link['identifier']['value']}"
            rows = db.query(
                "SELECT l.person_id, r.person_json FROM sv_identifier i "
                "JOIN sv_link l ON l.record_key = i.record_key "
                "JOIN sv_person_record r ON r.record_key = i.record_key "
                "WHERE i.id_key = ? ORDER BY l.person_id",
                (id_key,),
            )
            person_id, name = (rows[0][0], _display_name(json.loads(rows[0][1]))) if rows else (None, "")
            related.append(
                {
                    "relationship": list(link.get("relationship") or []),
                    "person_id": person_id,
                    "display_name": name or "(not known to this SingleView)",
                    "told_by": agency,
                }
            )
    return related


def _possible(db: Connection, linker: Linker, keys: list[str], person_id: str) -> list[dict[str, Any]]:
    matches = linker.possible_matches(keys)
    if not matches:
        return []
    others = sorted({m.other_key for m in matches})
    marks = db.in_list(len(others))
    rows = db.query(
        "SELECT l.record_key, l.person_id, r.person_json, r.agency FROM sv_link l "  # noqa: S608
        f"JOIN sv_person_record r ON r.record_key = l.record_key WHERE l.record_key IN {marks}",
        others,
    )
    held = {k: (p, json.loads(b), a) for k, p, b, a in rows}
    found = []
    for match in matches:
        if match.other_key not in held or held[match.other_key][0] == person_id:
            continue
        other_person, body, agency = held[match.other_key]
        found.append(
            {
                "person_id": other_person,
                "display_name": _display_name(body),
                "agency": agency,
                "grade": match.grade,
                "probability": match.probability,
                "why": match.explanation,
            }
        )
    return found


def _query_person(db: Connection, query: SearchQuery) -> dict[str, Any]:
    """The query as a standard Person, so that the linker normalises it as it does records."""
    identifiers: list[dict[str, str]] = []
    if query.identifier:
        value = "".join(query.identifier.split()).upper()
        rows = db.query("SELECT DISTINCT id_key FROM sv_identifier WHERE id_value = ? LIMIT 50", (value,))
        identifiers = [dict(zip(("system", "value"), str(r[0]).rsplit("|", 1), strict=True)) for r in rows]
        if value.isdigit() and len(value) == NHS_NUMBER_LENGTH:
            identifiers.append({"system": NHS_NUMBER_SYSTEM, "value": value})
    return {
        "identifier": identifiers,
        "name": [
            {
                "givenName": [query.given] if query.given else [],
                "familyName": [query.family] if query.family else [],
            }
        ],
        "dateOfBirth": {"date": query.birth_date} if query.birth_date else None,
        "address": [{"postcode": query.postcode}] if query.postcode else [],
    }


def _exact_keys(db: Connection, query: SearchQuery) -> list[str]:
    """Records whose stored name, date of birth, postcode and identifier equal what was typed."""
    found: list[str] = []
    if query.identifier:
        value = "".join(query.identifier.split()).upper()
        found += [
            str(r[0])
            for r in db.query(
                "SELECT DISTINCT record_key FROM sv_identifier WHERE id_value = ? LIMIT 200", (value,)
            )
        ]
    typed = {
        column: value
        for column, value in (
            ("family_name", normalise_name(query.family)),
            ("given_name", normalise_name(query.given)),
            ("birth_date", query.birth_date),
            ("postcode", normalise_postcode(query.postcode)),
        )
        if value
    }
    if typed:
        rows = db.query(
            f"SELECT record_key FROM sv_person_record WHERE {_exact_where(typed)} LIMIT {_EXACT_LIMIT}",  # noqa: S608 - fixed names
            list(typed.values()),
        )
        found += [str(r[0]) for r in rows]
    return found


def _exact_where(typed: dict[str, str]) -> str:
    """``column = ?`` for each typed column, the index to read chosen here, not by the planner.

    The first of :data:`_ACCESS_PATHS` whose columns were all typed is compared plainly; every
    other column is compared as ``column || ''``, an expression no index serves, so the database
    reads that one index. Left to itself, SQLite (no statistics) read the given-name index
    whenever a given name was typed: with a million people, a common given name meant scanning
    100,000 rows to find the one person of that name, family name and date of birth.
    """
    path = next(p for p in _ACCESS_PATHS if all(column in typed for column in p))
    return " AND ".join(f"{column} = ?" if column in path else f"{column} || '' = ?" for column in typed)


def search_people(
    db: Connection, linker: Linker, query: SearchQuery, limit: int = 20
) -> list[dict[str, Any]]:
    """People matching ``query``, best first, each with its best PUB03 grade and probability."""
    candidates = linker.search(_query_person(db, query), _exact_keys(db, query), limit * 5)
    if not candidates:
        return []
    keys = [c.record_key for c in candidates]
    marks = db.in_list(len(keys))
    rows = db.query(
        "SELECT l.record_key, l.person_id, r.agency, r.person_json FROM sv_link l "  # noqa: S608
        f"JOIN sv_person_record r ON r.record_key = l.record_key WHERE l.record_key IN {marks}",
        keys,
    )
    by_key = {k: (p, a, json.loads(b)) for k, p, a, b in rows}
    people: dict[str, dict[str, Any]] = {}
    for rank, candidate in enumerate(candidates):
        if candidate.record_key not in by_key:
            continue  # not committed yet, or just removed
        person_id, agency, person = by_key[candidate.record_key]
        entry = people.setdefault(
            person_id,
            {
                "person_id": person_id,
                "rank": rank,
                "grade": candidate.grade,
                "probability": candidate.probability,
                "display_name": _display_name(person),
                "birth_date": (person.get("dateOfBirth") or {}).get("date"),
                "matched_in": [],
                "explanation": candidate.explanation,
            },
        )
        if agency not in entry["matched_in"]:
            entry["matched_in"].append(agency)
    ranked = sorted(people.values(), key=lambda p: p["rank"])[:limit]
    for entry in ranked:
        entry["agencies"] = sorted(
            {
                r[0]
                for r in db.query(
                    "SELECT r.agency FROM sv_link l JOIN sv_person_record r ON r.record_key = l.record_key "
                    "WHERE l.person_id = ?",
                    (entry["person_id"],),
                )
            }
        )
        entry.pop("rank")
    return ranked
