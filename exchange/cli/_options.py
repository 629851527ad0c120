"""One set of options: an option name means one thing on every ``mais`` command.

:data:`SHARED_OPTIONS` writes down, once, what each option name used by several commands means
(the commands may word their help for their context, but not change the meaning).
:data:`RENAMED` lists the old names kept as aliases for one release, per command. Options that
several commands share are best declared once, here or beside their settings, and reused:
``tests/unit/kernel/test_option_names.py`` walks every command (entry-point ones too) and
holds these rules, so a new option shared with the same help everywhere passes without an
entry here.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = [
    "RENAMED",
    "SHARED_OPTIONS",
    "OrganisationOption",
    "renamed_help",
]

SHARED_OPTIONS: dict[str, str] = {
    "--adapter": "an adapter, by name (hl7v2, fhir, ssda903 …)",
    "--agency": "the agency whose topics are mais.<agency>.*",
    "--organisation": "ODS code or DfE LA number of the organisation that publishes the events",
    "--bootstrap-servers": "the Kafka bootstrap servers to use",
    "--registry-url": "the schema registry to use",
    "--kafka-port": "the port of the (first) Kafka broker the command starts",
    "--registry-port": "the port of the schema registry the command starts",
    "--port": "the port the command's own server listens on",
    "--metrics-port": "the port of an adapter's /metrics endpoint",
    "--stage": "only rejects of this pipeline stage (parse, map …)",
    "--schemas": "the folder of working .avsc files",
    "--seed": "the seed of generated samples: the same seed, the same people",
    "--out": "where the command writes what it makes",
    "--model": "a person-matching model file",
    "--truth": "truth.csv: labelled pairs of the same person",
    "--link-only": "compare only records of different agencies",
    "--token-file": "the file of hashed bearer tokens an http: listener accepts",
    "--topic": "the Kafka topic the command keeps its state in or reads",
    "--audit-key": "the Ed25519 signing key of the command's audit writer",
}
"""Option names used by more than one command, and their one meaning."""

RELEASE_OF_REMOVAL = "0.3"

RENAMED: dict[tuple[str, str], str] = {
    ("adapter run", "--organisation-id"): "--organisation",
    ("dev up", "--port"): "--kafka-port",
    ("schemas register", "--url"): "--registry-url",
}
"""(command, old name) -> new name: the old name still works until release 0.3."""


def renamed_help(help_text: str, old: str) -> str:
    """``help_text`` plus the sentence that documents an old name kept as an alias."""
    return f"{help_text} ({old} is the old name, accepted until {RELEASE_OF_REMOVAL}.)"


OrganisationOption = Annotated[
    str,
    typer.Option(
        "--organisation",
        help="ODS code or DfE LA number of the publishing organisation (default: the agency id).",
        show_default=False,
    ),
]
