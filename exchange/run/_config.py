"""``mais.toml``: which adapters ``mais run`` starts, for which agency, from which source and feed."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from exchange.adapter import load_adapter
from exchange.errors import ConfigError
from exchange.ingress import is_loopback
from exchange.runtime import DirectorySource, ListenerSource, SourceSpec, parse_source
from exchange.topics import validate_agency

__all__ = ["AdapterEntry", "RunConfig", "SampleSettings", "load_config"]

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


class SampleSettings(BaseModel):
    """The generated sample set the feeds come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    people: Annotated[int, Field(ge=1, le=20_000)] = 200
    seed: int = 1


class AdapterEntry(BaseModel):
    """One ``[[adapters]]`` table: one adapter process for one agency."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    adapter: str
    agency: str
    organisation: str = ""
    source: str
    feed: list[str] = Field(default_factory=list)
    pace: Annotated[float, Field(gt=0, le=3600)] = 1.0
    """Seconds between two units fed: a file dropped, or an HL7 message sent."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("lower-case letters, digits and hyphens, starting with a letter")
        return value

    @field_validator("agency")
    @classmethod
    def _agency(cls, value: str) -> str:
        try:
            return validate_agency(value)
        except ConfigError as exc:
            raise ValueError(exc.hint or exc.message) from None

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        try:
            spec = parse_source(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        if not isinstance(spec, DirectorySource) and not (
            isinstance(spec, ListenerSource) and spec.kind == "mllp"
        ):
            raise ValueError("mais run feeds dir:PATH and mllp:HOST:PORT sources")
        if isinstance(spec, ListenerSource) and not is_loopback(spec.host):
            raise ValueError(
                "mais run's MLLP listeners run without TLS, for this machine only: use 127.0.0.1 "
                "(run `mais adapter run` with --tls-cert for senders on other machines)"
            )
        return value

    @model_validator(mode="after")
    def _organisation(self) -> AdapterEntry:
        """An organisation the adapter cannot use stops ``mais run`` before anything starts."""
        if ":" not in self.adapter:  # a module:attribute adapter is checked when it is loaded
            try:
                load_adapter(self.adapter).check_organisation(self.organisation or self.agency)
            except ConfigError as exc:
                raise ValueError(exc.message.replace("--organisation", "organisation")) from None
        return self

    def source_spec(self, state_dir: Path) -> SourceSpec:
        """The source, with a relative drop folder placed under the run's state folder."""
        spec = parse_source(self.source)
        if isinstance(spec, DirectorySource) and not spec.path.is_absolute():
            return DirectorySource(state_dir / spec.path)
        return spec


class RunConfig(BaseModel):
    """The whole ``mais.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    samples: SampleSettings = SampleSettings()
    adapters: list[AdapterEntry]

    @model_validator(mode="after")
    def _unique(self) -> RunConfig:
        names = [entry.name for entry in self.adapters]
        if not names:
            raise ValueError("no [[adapters]] tables")
        if len(set(names)) != len(names):
            raise ValueError("two [[adapters]] tables have the same name")
        sources = [entry.source for entry in self.adapters]
        if len(set(sources)) != len(sources):
            raise ValueError("two [[adapters]] tables have the same source")
        return self


def load_config(path: Path) -> RunConfig:
    """Read and validate ``mais.toml``; problems are reported by table and key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no configuration file {path}", hint="run from the repository root, or pass --config PATH"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc})", hint="fix the file") from None
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"{path}: {where}: {first['msg']}", hint="see docs/run.md for the keys of mais.toml"
        ) from None
