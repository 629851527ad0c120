"""Reading FHIR R4 safely: resources out of files and bundles, validated with fhir.resources.

Validation uses the R4B models of ``fhir.resources`` (R4B only adds to R4 for these resources).
An element that does not validate and that the record can do without (a birth date that is not
a calendar date, one bad telecom, an unknown element …) is left out with a warning and the
resource validated again; one the record cannot do without (its ``id``, ``meta``, the
``patient`` it concerns, an episode's ``status`` and ``period``) rejects it.

Errors name the element path (``Patient.birthDate``), never the value: pydantic's own messages
quote input, so only their locations are kept, and an unknown element's name (which came from
the input) is not repeated.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.relatedperson import RelatedPerson
from pydantic import ValidationError

from adapters._fields import has_control_characters
from adapters._json import MAX_DEPTH, parse_json
from exchange.errors import DataError
from exchange.identifiers import Warn

__all__ = ["MODELS", "entries", "load_json", "reject_control_characters", "validate_resource"]

MODELS: dict[str, Any] = {
    "Patient": Patient,
    "RelatedPerson": RelatedPerson,
    "EpisodeOfCare": EpisodeOfCare,
    "Organization": Organization,
}
# Elements a resource cannot do without when it has them: an invalid one rejects the resource.
_NEEDED = frozenset({"resourceType", "id", "meta", "patient", "status", "period"})
_WARNING = {"birthDate": "invalid-date-of-birth", "deceasedDateTime": "invalid-date-of-death"}
_ROUNDS = 3  # validate, leave out what failed, validate again (twice more at most)


def load_json(data: bytes, what: str) -> Any:
    """Parse JSON text; a syntax error names the line and column only."""
    return parse_json(data, what)


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
    if depth > MAX_DEPTH:
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


def _path(loc: tuple[int | str, ...], kind: str) -> str:
    """An error's element path; an unknown element is not named (its name came from the input)."""
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc]
    if kind == "extra_forbidden":
        parts = [*parts[:-1], ".(unknown element)"]
    return "".join(parts).lstrip(".")


def validate_resource(resource: dict[str, Any], warn: Warn | None = None) -> tuple[str, dict[str, Any]]:
    """Validate one resource against its FHIR model; return its type and the resource without
    the elements that were left out. Unknown resource types are refused.

    Without ``warn`` nothing is left out: any error rejects the resource (for resources we make).
    """
    kind = resource.get("resourceType")
    model = MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise DataError(
            "resourceType is not Patient, RelatedPerson, EpisodeOfCare or Organization", stage="parse"
        )
    for _ in range(_ROUNDS):
        try:
            model.model_validate(resource)
        except ValidationError as exc:
            errors = exc.errors(include_input=False)
            if warn is None:
                where = sorted({_path(e["loc"], e["type"]) or "(resource)" for e in errors})[:5]
                raise DataError(f"{kind} is not valid FHIR R4 at {', '.join(where)}", stage="parse") from None
            resource = _leave_out(str(kind), resource, errors, warn)
            continue
        except (ValueError, TypeError, RecursionError):
            raise DataError(f"{kind} is not valid FHIR R4", stage="parse") from None
        return str(kind), resource
    raise DataError(f"{kind} is not valid FHIR R4 (still, after leaving out what failed)", stage="parse")


def _leave_out(kind: str, resource: dict[str, Any], errors: Any, warn: Warn) -> dict[str, Any]:
    """``resource`` without the elements that failed, or a DataError when one is needed."""
    needed = sorted(
        {_path(e["loc"], e["type"]) or "(resource)" for e in errors if not e["loc"] or e["loc"][0] in _NEEDED}
    )
    if needed:
        raise DataError(f"{kind} is not valid FHIR R4 at {', '.join(needed[:5])}", stage="parse")
    whole: dict[str, str] = {}  # element -> its path in warnings
    repeats: dict[str, dict[int, str]] = {}  # element -> index -> path
    for error in errors:
        loc = tuple(error["loc"])
        name = str(loc[0])
        shown_all = error["type"] == "extra_forbidden"  # the path then ends at "(unknown element)"
        # one repetition of a repeating element (telecom[1]), else the whole top-level element
        if len(loc) > 1 and isinstance(loc[1], int) and isinstance(resource.get(name), list):
            repeats.setdefault(name, {})[loc[1]] = _path(loc if shown_all else loc[:2], error["type"])
        else:
            whole[name] = _path(loc if shown_all else loc[:1], error["type"])
    pruned = {k: v for k, v in resource.items() if k not in whole}
    left_out = list(whole.items())
    for name, indices in repeats.items():
        if name not in whole:
            pruned[name] = [item for i, item in enumerate(resource[name]) if i not in indices]
            left_out.extend((name, where) for where in indices.values())
    for name, where in sorted(left_out, key=lambda item: item[1]):
        warn(_WARNING.get(name, "invalid-element"), f"{kind}.{where} is not valid FHIR R4; left out")
    return pruned


def reject_control_characters(node: Any, where: str) -> None:
    """A DataError naming the element of the first text holding control characters, if any.

    Run on validated resources only: their element names are the model's, not the input's.
    """
    stack: list[tuple[Any, str]] = [(node, where)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if has_control_characters(value):
                raise DataError(f"{path} holds control characters", stage="parse")
        elif isinstance(value, dict):
            stack.extend((v, f"{path}.{k}") for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(value))
