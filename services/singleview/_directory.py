"""Whom to call at each agency: a small TOML directory the deployment keeps (see ``directory.toml``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from exchange.errors import ConfigError

__all__ = ["AgencyContact", "Directory"]


@dataclass(frozen=True, slots=True)
class AgencyContact:
    """How the page names an agency and which team to call there."""

    agency: str
    name: str
    kind: str = ""
    team: str = ""
    telephone: str = ""
    email: str = ""
    known_as: str = "Holds a record"


class Directory:
    """Agency id -> :class:`AgencyContact`; an agency not listed is shown by its id."""

    def __init__(self, contacts: dict[str, AgencyContact]) -> None:
        self._contacts = contacts

    @classmethod
    def load(cls, path: Path | None = None) -> Directory:
        """Read ``path``, or the example directory shipped with the package."""
        try:
            if path is None:
                text = (resources.files("services.singleview") / "directory.toml").read_text("utf-8")
            else:
                text = path.read_text("utf-8")
            data = tomllib.loads(text)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(
                f"cannot read the agency directory {path}: {exc}",
                hint="MAIS_SINGLEVIEW_DIRECTORY must name a TOML file like "
                "services/singleview/directory.toml",
            ) from None
        contacts: dict[str, AgencyContact] = {}
        for agency, entry in (data.get("agencies") or {}).items():
            try:
                contacts[agency] = AgencyContact(agency=agency, **entry)
            except TypeError as exc:
                raise ConfigError(
                    f"agency directory entry {agency!r}: {exc}",
                    hint="allowed keys: name, kind, team, telephone, email, known_as",
                ) from None
        return cls(contacts)

    def get(self, agency: str) -> AgencyContact:
        return self._contacts.get(agency) or AgencyContact(agency=agency, name=agency)
