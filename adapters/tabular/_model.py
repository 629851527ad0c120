"""The TOML mapping file of the tabular adapter, as a validated pydantic model.

A mapping describes one export (a CSV or JSON-lines file a case system produces): which
columns recognise it, and how a row becomes a Person and, optionally, service episodes and
life events. Column names are looked up exactly; for JSON lines a dotted path
(``subject.nhsNumber``) reaches into nested objects. See ``docs/adapters.md``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from exchange.errors import ConfigError

__all__ = [
    "Coded",
    "Condition",
    "EpisodeRule",
    "EventRule",
    "IdentifierRule",
    "Mapping",
    "PersonRule",
    "load_mapping",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    name: str
    format: Literal["csv", "jsonl"] = "csv"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    recognise: list[str] = Field(min_length=1)
    date_formats: list[str] = ["%Y-%m-%d", "%d/%m/%Y"]
    datetime_formats: list[str] = ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M"]
    recorded_at: str | None = None


class IdentifierRule(_Strict):
    type: Literal["local", "nhs-number", "upn", "former-upn", "la-child-id"]
    column: str
    kind: str = "person"


class Coded(_Strict):
    """A code read from a column, translated by ``map`` (values not in the map are left out)."""

    column: str
    map: dict[str, str] | Literal["dfe-ethnicity"] = {}


class Condition(_Strict):
    column: str
    equals: list[str] = Field(min_length=1)


class Address(_Strict):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postcode: str | None = None


class PersonRule(_Strict):
    identifier: list[IdentifierRule] = Field(min_length=1)
    family_name: str | None = None
    given_names: list[str] = []
    date_of_birth: str | None = None
    date_of_death: str | None = None
    gender: Coded | None = None
    sex: Coded | None = None
    ethnicity: Coded | None = None
    address: Address | None = None
    telephone: list[str] = []
    email: list[str] = []


class _Occurrence(_Strict):
    kind: str
    id: list[str] = Field(min_length=1)
    code: str | None = None
    code_from: Coded | None = None
    start: str
    end: str | None = None
    when: Condition | None = None
    location: str | None = None

    @model_validator(mode="after")
    def _one_code(self) -> _Occurrence:
        if (self.code is None) == (self.code_from is None):
            raise ValueError("give exactly one of code or code_from")
        return self


class EpisodeRule(_Occurrence):
    service: str = "social-care"


class EventRule(_Occurrence):
    pass


class Mapping(_Strict):
    source: Source
    person: PersonRule
    episode: list[EpisodeRule] = []
    event: list[EventRule] = []

    @model_validator(mode="after")
    def _one_key(self) -> Mapping:
        if not any(rule.type == "local" for rule in self.person.identifier):
            raise ValueError("person.identifier needs one rule of type 'local' (the record key)")
        return self


def load_mapping(path: Path) -> Mapping:
    """Read and validate one mapping file; any problem is a ConfigError naming the file and field."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read mapping {path}: {exc}", hint="check the mapping path") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"mapping {path} is not valid TOML: {exc}", hint="fix the TOML syntax") from None
    try:
        return Mapping.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()[:5]
        )
        raise ConfigError(f"mapping {path} is invalid: {problems}", hint="see docs/adapters.md") from None
