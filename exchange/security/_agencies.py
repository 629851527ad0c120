"""Agency definitions: the one source of truth for what each agency owns and may read.

They live in a TOML file under version control (``agencies.toml`` by default,
``MAIS_AGENCIES_FILE`` elsewhere)::

    [agencies.csc]
    name = "Children's social care"
    publishes = ["person", "episode", "event"]   # the default: all three
    reads = ["hospital.person", "school"]        # "school" = every entity topic of the school
    enquiries = true                             # the default: may ask and answer enquiries

``mais agency add`` writes it and applies it to a cluster; ``mais deploy render`` turns the same
file into Strimzi ``KafkaTopic`` and ``KafkaUser`` resources. A grant names entity topics only:
no agency can be granted another's DLQ (original records), progress or ops topic.

``enquiries = false`` keeps an agency off the shared enquiry topics (it can neither ask nor
answer); every agency may append to the audit log.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from exchange.errors import ConfigError
from exchange.security._acl import AclRule, agency_rules, monitor_rules
from exchange.topics import ENTITIES, TopicSpec, agency_topics, entity_topic, validate_agency

__all__ = ["RESERVED_PRINCIPALS", "AgencyBook", "AgencyDefinition", "default_agencies_file"]

RESERVED_PRINCIPALS = frozenset({"admin", "mais-monitor", "mais-registry", "operator", "monitor", "registry"})
"""Principal names the exchange itself uses; no agency may take one."""

_HEADER = (
    "# Agencies of this exchange: what each publishes and which other agencies' topics it may read.\n"
    "# The one source of truth for `mais agency add` (credentials, ACLs, topics) and\n"
    "# `mais deploy render` (Strimzi KafkaTopic and KafkaUser resources). Edit, then apply.\n"
)


class AgencyDefinition(BaseModel):
    """One agency: its id, display name, the entities it publishes and the topics granted to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = ""
    publishes: tuple[str, ...] = ENTITIES
    reads: tuple[str, ...] = ()
    enquiries: bool = True
    """Whether the agency takes part in enquiries (read and write the shared enquiry topics)."""

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        try:
            validate_agency(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        if value in RESERVED_PRINCIPALS:
            raise ValueError(f"{value!r} is reserved for the exchange's own principals")
        return value

    @field_validator("publishes")
    @classmethod
    def _check_publishes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(ENTITIES))
        if unknown:
            raise ValueError(f"unknown entities {unknown}; choose from {list(ENTITIES)}")
        return tuple(e for e in ENTITIES if e in value)

    @field_validator("reads")
    @classmethod
    def _check_reads(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for grant in value:
            other, _, entity = grant.partition(".")
            try:
                validate_agency(other)
            except ConfigError:
                raise ValueError(f"grant {grant!r}: {other!r} is not an agency id") from None
            if entity and entity not in ENTITIES:
                raise ValueError(
                    f"grant {grant!r}: only entity topics ({', '.join(ENTITIES)}) can be granted"
                )
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _not_self(self) -> AgencyDefinition:
        if any(grant.partition(".")[0] == self.id for grant in self.reads):
            raise ValueError("an agency reads its own topics already; do not grant them to it")
        return self

    def granted_topics(self) -> list[str]:
        """The other agencies' topics this agency may read (literal names)."""
        topics: set[str] = set()
        for grant in self.reads:
            other, _, entity = grant.partition(".")
            topics.update(entity_topic(other, e) for e in ((entity,) if entity else ENTITIES))
        return sorted(topics)

    def acl_rules(self) -> list[AclRule]:
        return agency_rules(self.id, self.granted_topics(), enquiries=self.enquiries)

    def topics(self, partitions: int = 3) -> list[TopicSpec]:
        return agency_topics(self.id, self.publishes, partitions, enquiries=self.enquiries)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agencies: dict[str, dict[str, object]] = {}


def default_agencies_file() -> Path:
    return Path(os.environ.get("MAIS_AGENCIES_FILE", "agencies.toml"))


class AgencyBook:
    """The agencies of one exchange, read from and written to their TOML file."""

    def __init__(self, path: Path, agencies: dict[str, AgencyDefinition] | None = None) -> None:
        self.path = path
        self.agencies: dict[str, AgencyDefinition] = dict(agencies or {})

    @classmethod
    def load(cls, path: Path | None = None, *, missing_ok: bool = False) -> AgencyBook:
        path = path or default_agencies_file()
        if not path.is_file():
            if missing_ok:
                return cls(path)
            raise ConfigError(
                f"no agency definitions at {path}",
                hint="add one with `mais agency add ID`, or set MAIS_AGENCIES_FILE to the file",
            )
        try:
            raw = _File.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})", hint="fix the file") from None
        except ValidationError as exc:
            raise ConfigError(
                f"{path}: {_first_error(exc)}", hint="top-level tables are [agencies.ID]"
            ) from None
        agencies: dict[str, AgencyDefinition] = {}
        for agency_id, table in raw.agencies.items():
            try:
                agencies[agency_id] = AgencyDefinition.model_validate({"id": agency_id, **table})
            except ValidationError as exc:
                raise ConfigError(
                    f"{path}: [agencies.{agency_id}] {_first_error(exc)}",
                    hint="see the comment at the top of the file for the format",
                ) from None
        return cls(path, agencies)

    def __iter__(self) -> Iterator[AgencyDefinition]:
        return iter(self.agencies[key] for key in sorted(self.agencies))

    def get(self, agency_id: str) -> AgencyDefinition:
        try:
            return self.agencies[agency_id]
        except KeyError:
            raise ConfigError(
                f"agency {agency_id!r} is not defined in {self.path}", hint="see `mais agency list`"
            ) from None

    def put(self, definition: AgencyDefinition) -> None:
        self.agencies[definition.id] = definition

    def monitor_rules(self) -> list[AclRule]:
        return monitor_rules(self.agencies)

    def save(self) -> None:
        """Write the file (stable order, atomic replace)."""
        parts = [_HEADER]
        for definition in self:
            parts.append(f"\n[agencies.{definition.id}]\n")
            parts.append(f"name = {json.dumps(definition.name, ensure_ascii=False)}\n")
            parts.append(f"publishes = {json.dumps(list(definition.publishes))}\n")
            parts.append(f"reads = {json.dumps(list(definition.reads))}\n")
            if not definition.enquiries:
                parts.append("enquiries = false\n")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_name(f".{self.path.name}.tmp")
        staging.write_text("".join(parts), encoding="utf-8")
        staging.replace(self.path)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])
