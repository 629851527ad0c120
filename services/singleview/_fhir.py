"""A person as FHIR R4: a Bundle of one Patient per agency record and one EpisodeOfCare per episode.

Built with the FHIR adapter's outbound mapping (:func:`adapters.fhir.to_fhir`), so the standard
goes back out to FHIR-speaking systems in the same shape the adapter reads.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from adapters.fhir import to_fhir
from exchange.schemas import from_json
from services.singleview._db import Connection

__all__ = ["person_bundle"]


def person_bundle(
    db: Connection, person_id: str, record_keys: list[str], episode_keys: list[str]
) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    if record_keys:
        marks = db.in_list(len(record_keys))
        for key, body in db.query(
            f"SELECT record_key, person_json FROM sv_person_record WHERE record_key IN {marks} "  # noqa: S608
            "ORDER BY record_key",
            record_keys,
        ):
            person = from_json("mais.v1.Person", json.loads(body))
            resource = to_fhir("mais.v1.PersonRecorded", {"person": person})
            entries.append({"fullUrl": _urn(key), "resource": resource})
    if episode_keys:
        marks = db.in_list(len(episode_keys))
        rows = db.query(
            f"SELECT e.episode_key, e.episode_json, e.end_at, MIN(s.subject_key) FROM sv_episode e "  # noqa: S608
            f"JOIN sv_episode_subject s ON s.episode_key = e.episode_key WHERE e.episode_key IN {marks} "
            "GROUP BY e.episode_key, e.episode_json, e.end_at ORDER BY e.episode_key",
            episode_keys,
        )
        for key, body, end_at, subject in rows:
            if body:
                episode = from_json("mais.v1.ServiceEpisode", json.loads(body))
                if end_at is not None and not episode["timeInformation"][0].get("endDateTime"):
                    episode["timeInformation"][0]["endDateTime"] = datetime.fromtimestamp(end_at / 1000, UTC)
                resource = to_fhir("mais.v1.ServiceEpisodeRecorded", {"serviceEpisode": episode})
            else:
                system, _, value = key.rpartition("|")
                s_system, _, s_value = subject.rpartition("|")
                closed = {
                    "episodeIdentifier": [{"system": system, "value": value}],
                    "subjectIdentifier": [{"system": s_system, "value": s_value}],
                    "endDateTime": datetime.fromtimestamp(end_at / 1000, UTC),
                }
                resource = to_fhir("mais.v1.ServiceEpisodeClosed", closed)
            entries.append({"fullUrl": _urn(key), "resource": resource})
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "identifier": {"system": "https://mais-exchange.org/Id/singleview-person", "value": person_id},
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "entry": entries,
    }


def _urn(key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}"
