"""Sharing policies as data: the files an agency keeps under version control, checked at start-up.

A policy file (``.json`` or ``.toml``) holds one ``SharingPolicy`` of the information-governance
standard. Field names may be written as in the standard's published table (``URI``,
``Identifier.System``, ``Party.CatalogueID``, ``StartDate``, ``PermittedUse`` …) or as in our Avro
schema (``uri``, ``identifier.system``, ``party.catalogueID``, ``startDate``, ``permittedUse`` …).

* Purposes may be written as a short code (``children-act-1989-s47``), a legislation.gov.uk URI in
  either form, or a Coding; they must be in the project's code list (:mod:`exchange.purposes`).
* Actions (``PermittedUse``, ``Restrictions``) may be ``odrl:read``, ``read`` or a Coding.
* Dates may be ``YYYY-MM-DD`` (an end date then runs to the end of that day, UTC) or ISO date-times.
* ``Data`` entries are names or URIs; ``contact`` and ``involvement`` are the exchange's own
  categories (:data:`exchange.purposes.DATA_CATEGORIES`).

Any mistake stops start-up with a :class:`~exchange.errors.ConfigError` naming the file and the field.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from exchange.errors import ConfigError
from exchange.purposes import Purpose, canonical_data, purpose_from_coding, purpose_from_text

__all__ = ["ODRL", "CompiledPolicy", "PolicyFile", "compile_policy", "load_policies", "policy_to_avro"]

ODRL = "http://www.w3.org/ns/odrl/2/"


def _alias(*names: str) -> Any:
    return Field(validation_alias=AliasChoices(*names))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, str_min_length=1)


class IdentifierIn(_Model):
    value: str = _alias("value", "Value")
    system: str = _alias("system", "System")


class PartyIn(_Model):
    name: str = _alias("name", "Name")
    catalogueID: list[IdentifierIn] = Field(
        min_length=1, validation_alias=AliasChoices("catalogueID", "CatalogueID")
    )


class CodingIn(_Model):
    code: str
    system: str
    display: str | None = None


def _action(value: Any) -> Any:
    if isinstance(value, str):
        code = value.removeprefix("odrl:").removeprefix(ODRL)
        return {"code": code, "system": ODRL}
    return value


def _purpose(value: Any) -> Any:
    purpose = purpose_from_text(value) if isinstance(value, str) else None
    if isinstance(value, Mapping):
        purpose = purpose_from_coding(value)
    if purpose is None:
        raise ValueError("not a purpose of the project's code list (see docs/enquiry.md)")
    return purpose


Action = Annotated[CodingIn, BeforeValidator(_action)]
PurposeIn = Annotated[Any, BeforeValidator(_purpose)]


def _when(value: Any, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.max if end else time.min)
    elif isinstance(value, str) and len(value) == 10:
        moment = datetime.combine(date.fromisoformat(value), time.max if end else time.min)
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise ValueError("expected a date (YYYY-MM-DD) or an ISO date-time")
    if end and moment.time() == time.max:
        moment = moment.replace(microsecond=999000)  # what timestamp-millis can hold
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class PolicyFile(_Model):
    """One SharingPolicy as written in a policy file."""

    uri: str = _alias("uri", "URI")
    identifier: IdentifierIn = _alias("identifier", "Identifier")
    name: str = _alias("name", "Name")
    contact: str = _alias("contact", "Contact")
    party: list[PartyIn] = Field(min_length=1, validation_alias=AliasChoices("party", "Party"))
    data: list[str] = Field(min_length=1, validation_alias=AliasChoices("data", "Data"))
    purpose: list[PurposeIn] = Field(min_length=1, validation_alias=AliasChoices("purpose", "Purpose"))
    startDate: datetime = _alias("startDate", "StartDate")
    endDate: datetime = _alias("endDate", "EndDate")
    permittedUse: list[Action] = Field(
        min_length=1, validation_alias=AliasChoices("permittedUse", "PermittedUse")
    )
    restrictions: list[Action] = Field(
        default_factory=list, validation_alias=AliasChoices("restrictions", "Restrictions")
    )
    dataRecipientResponsibilities: list[Action] = Field(
        default_factory=list,
        validation_alias=AliasChoices("dataRecipientResponsibilities", "DataRecipientResponsibilities"),
    )
    securityMeasure: list[Action] = Field(
        default_factory=list, validation_alias=AliasChoices("securityMeasure", "SecurityMeasure")
    )
    legalCompliance: list[Action] = Field(
        default_factory=list, validation_alias=AliasChoices("legalCompliance", "LegalCompliance")
    )

    @field_validator("startDate", mode="before")
    @classmethod
    def _start(cls, value: Any) -> datetime:
        return _when(value, end=False)

    @field_validator("endDate", mode="before")
    @classmethod
    def _end(cls, value: Any) -> datetime:
        return _when(value, end=True)

    @field_validator("endDate")
    @classmethod
    def _after_start(cls, value: datetime, info: Any) -> datetime:
        start = info.data.get("startDate")
        if start is not None and value < start:
            raise ValueError("ends before it starts")
        return value


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy ready for the decision point: sets for O(1) rule checks."""

    uri: str
    identifier: tuple[str, str]  # (system, value): the value carries the version
    parties: frozenset[tuple[str, str]]
    purposes: frozenset[str]
    data: frozenset[str]
    start_ms: int
    end_ms: int
    permitted: frozenset[str]
    restricted: frozenset[str]
    source: PolicyFile

    @property
    def identifier_dict(self) -> dict[str, str]:
        return {"system": self.identifier[0], "value": self.identifier[1]}


def _action_key(coding: CodingIn) -> str:
    return coding.code if coding.system == ODRL else f"{coding.system}#{coding.code}"


def compile_policy(policy: PolicyFile) -> CompiledPolicy:
    return CompiledPolicy(
        uri=policy.uri,
        identifier=(policy.identifier.system, policy.identifier.value),
        parties=frozenset((i.system, i.value) for p in policy.party for i in p.catalogueID),
        purposes=frozenset(p.uri for p in policy.purpose),
        data=frozenset(canonical_data(d) for d in policy.data),
        start_ms=_millis(policy.startDate),
        end_ms=_millis(policy.endDate),
        permitted=frozenset(_action_key(a) for a in policy.permittedUse),
        restricted=frozenset(_action_key(a) for a in policy.restrictions),
        source=policy,
    )


def _millis(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def policy_to_avro(policy: PolicyFile) -> dict[str, Any]:
    """The policy as a ``mais.v1.SharingPolicy`` value (what a request carries)."""

    def coding(c: CodingIn) -> dict[str, Any]:
        return {"code": c.code, "system": c.system, "display": c.display}

    return {
        "uri": policy.uri,
        "identifier": {"value": policy.identifier.value, "system": policy.identifier.system},
        "name": policy.name,
        "contact": policy.contact,
        "party": [
            {"name": p.name, "catalogueID": [{"value": i.value, "system": i.system} for i in p.catalogueID]}
            for p in policy.party
        ],
        "data": [canonical_data(d) for d in policy.data],
        "purpose": [p.coding() for p in policy.purpose if isinstance(p, Purpose)],
        "startDate": policy.startDate,
        "endDate": policy.endDate,
        "permittedUse": [coding(a) for a in policy.permittedUse],
        "restrictions": [coding(a) for a in policy.restrictions],
        "dataRecipientResponsibilities": [coding(a) for a in policy.dataRecipientResponsibilities],
        "securityMeasure": [coding(a) for a in policy.securityMeasure],
        "legalCompliance": [coding(a) for a in policy.legalCompliance],
    }


def _read(path: Path) -> Any:
    try:
        if path.suffix == ".toml":
            return tomllib.loads(path.read_text(encoding="utf-8"))
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"{path}: not valid {path.suffix[1:].upper()}: {exc}", hint="fix the file's syntax"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be read ({exc.strerror})", hint="check the path and permissions"
        ) from None


def load_policy_file(path: Path) -> PolicyFile:
    """One policy file, validated; errors name the file and the field."""
    data = _read(path)
    try:
        return PolicyFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            where = ".".join(str(part) for part in error["loc"]) or "(top level)"
            problems.append(f"field {where}: {error['msg']}")
        raise ConfigError(
            f"{path}: " + "; ".join(problems), hint="fix the policy file (docs/enquiry.md lists the fields)"
        ) from None


def load_policies(folder: Path | Iterable[Path]) -> list[CompiledPolicy]:
    """Every ``*.json`` / ``*.toml`` policy in ``folder`` (or the given files), compiled.

    Two files with the same policy URI are a configuration error (which version holds?).
    """
    if isinstance(folder, Path):
        if not folder.is_dir():
            raise ConfigError(f"policy folder {folder} does not exist", hint="pass --policies DIR")
        paths = sorted(p for p in folder.iterdir() if p.suffix in (".json", ".toml"))
        if not paths:
            raise ConfigError(
                f"policy folder {folder} holds no .json or .toml policy", hint="add a policy file"
            )
    else:
        paths = list(folder)
    policies: list[CompiledPolicy] = []
    seen: dict[str, Path] = {}
    for path in paths:
        policy = compile_policy(load_policy_file(path))
        if policy.uri in seen:
            raise ConfigError(
                f"{path}: field uri: the same policy is also in {seen[policy.uri]}",
                hint="keep one file per policy",
            )
        seen[policy.uri] = path
        policies.append(policy)
    return policies
