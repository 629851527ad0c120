"""Reading FHIR R4 JSON safely: resources out of files and bundles, validated with fhir.resources.

Validation uses the R4B models of ``fhir.resources`` (R4B only adds to R4 for these resources).
Errors name the element path (``Patient.birthDate``), never the value: pydantic's own messages
quote input, so only their locations are kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.relatedperson import RelatedPerson
from pydantic import ValidationError

from exchange.errors import DataError

__all__ = ["MODELS", "entries", "load_json", "validate_resource"]

MODELS: dict[str, Any] = {
    "Patient": Patient,
    "RelatedPerson": RelatedPerson,
    "EpisodeOfCare": EpisodeOfCare,
    "Organization": Organization,
}
_MAX_DEPTH = 64


def load_json(data: bytes, what: str) -> Any:
    """Parse JSON text; a syntax error names the line and column only."""
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{what} is not UTF-8 (byte {exc.start})", stage="parse") from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno})", stage="parse"
        ) from None
    except RecursionError:
        raise DataError(f"{what} is nested too deeply", stage="parse") from None


def entries(document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each resource of a single resource or a Bundle, with its position (``entry[3]``).

    References to ``urn:uuid:`` full URLs inside a bundle are rewritten to ``Type/id`` when the
    target entry has an id, so that each resource can be read on its own.
    """
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise DataError("JSON is not a FHIR resource (no resourceType)", stage="parse")
    if document["resourceType"] != "Bundle":
        yield document["resourceType"], document
        return
    items = document.get("entry") or []
    if not isinstance(items, list):
        raise DataError("Bundle.entry is not a list", stage="parse")
    targets: dict[str, str] = {}
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("resource"), dict):
            resource = item["resource"]
            if isinstance(item.get("fullUrl"), str) and isinstance(resource.get("id"), str):
                targets[item["fullUrl"]] = f"{resource.get('resourceType')}/{resource['id']}"
    for index, item in enumerate(items):
        resource = item.get("resource") if isinstance(item, dict) else None
        if not isinstance(resource, dict):
            yield f"entry[{index}]", {}
            continue
        yield f"entry[{index}]", _rewrite(resource, targets, 0)


def _rewrite(node: Any, targets: dict[str, str], depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise DataError("resource is nested too deeply", stage="parse")
    if isinstance(node, dict):
        out = {k: _rewrite(v, targets, depth + 1) for k, v in node.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref in targets:
            out["reference"] = targets[ref]
        return out
    if isinstance(node, list):
        return [_rewrite(v, targets, depth + 1) for v in node]
    return node


def _location(loc: tuple[int | str, ...], kind: str) -> str:
    """An error's element path; an unknown element is not named (its name came from the input)."""
    parts = [str(p) for p in loc]
    if kind == "extra_forbidden":
        parts = [*parts[:-1], "(unknown element)"]
    return ".".join(parts)


def validate_resource(resource: dict[str, Any]) -> str:
    """Validate one resource against its FHIR model; return its type. Unknown types are refused."""
    kind = resource.get("resourceType")
    model = MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise DataError(
            "resourceType is not Patient, RelatedPerson, EpisodeOfCare or Organization", stage="parse"
        )
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        where = sorted({_location(error["loc"], error["type"]) for error in exc.errors()})[:5]
        raise DataError(f"{kind} is not valid FHIR R4 at {', '.join(where)}", stage="parse") from None
    except (ValueError, TypeError, RecursionError):
        raise DataError(f"{kind} is not valid FHIR R4", stage="parse") from None
    return str(kind)
