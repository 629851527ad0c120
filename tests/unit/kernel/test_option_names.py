"""One set of options: walk every ``mais`` command (kernel and ``mais.commands`` entry points)
and hold the rules of :mod:`exchange.cli._options`.

* A long option name used by several commands means one thing: it is written down in
  ``SHARED_OPTIONS``, or every command declares it with the same help (one shared declaration).
* A thing has one name: an option's second long name is an old name listed in ``RENAMED`` for
  that command (its help says until when it is accepted); a name that is another name plus a
  suffix such as ``-id`` or ``-url`` names the same thing twice; two names never share a help text.
* A short flag stands for the same long option everywhere.

New options that follow the rules pass without touching this file.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pytest
from typer.main import get_command

from exchange.cli import app
from exchange.cli._options import RELEASE_OF_REMOVAL, RENAMED, SHARED_OPTIONS
from exchange.cli._services import ENTRY_POINT_GROUP

_SUFFIX = re.compile(r"-(?:id|code|name|url|path|file|dir)$")


@dataclass(frozen=True)
class Opt:
    command: str
    long: tuple[str, ...]
    short: tuple[str, ...]
    help: str
    param: Any


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    yield " ".join(path), command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _walk(sub, (*path, name))


COMMANDS = dict(_walk(get_command(app), ()))
OPTIONS = [
    Opt(
        name,
        tuple(o for o in (*p.opts, *p.secondary_opts) if o.startswith("--") and not o.startswith("--no-")),
        tuple(o for o in p.opts if not o.startswith("--")),
        " ".join((p.help or "").split()),
        p,
    )
    for name, command in COMMANDS.items()
    for p in command.params
    if p.param_type_name == "option" and "--help" not in p.opts
]


def _primary(option: Opt) -> str:
    return option.long[0]


def test_the_walk_reaches_every_command_including_entry_point_ones() -> None:
    leaves = {name for name, command in COMMANDS.items() if not getattr(command, "commands", None)}
    assert {"translate", "adapter run", "dlq replay", "dev up", "schemas register", "run"} <= leaves
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        assert any(name == entry.name or name.startswith(f"{entry.name} ") for name in COMMANDS)
    assert len(OPTIONS) > 40


def test_a_name_used_by_several_commands_means_one_thing() -> None:
    helps: dict[str, set[str]] = defaultdict(set)
    commands: dict[str, set[str]] = defaultdict(set)
    for option in OPTIONS:
        name = _primary(option)
        commands[name].add(option.command)
        helps[name].add(option.help)
    conflicts = [
        f"{name} on {sorted(commands[name])}"
        for name in sorted(commands)
        if len(commands[name]) > 1 and name not in SHARED_OPTIONS and len(helps[name]) > 1
    ]
    assert not conflicts, (
        "these options are on several commands with different help: declare each once and reuse it, "
        "or write its one meaning in exchange.cli._options.SHARED_OPTIONS: " + "; ".join(conflicts)
    )


def test_every_second_long_name_is_a_dated_old_name() -> None:
    for option in OPTIONS:
        for old in option.long[1:]:
            assert RENAMED.get((option.command, old)) == _primary(option), (
                f"mais {option.command} {_primary(option)} has a second name {old}: an option has one "
                "name; list an old one in exchange.cli._options.RENAMED"
            )
            assert old in option.help and f"until {RELEASE_OF_REMOVAL}" in option.help


def test_every_renamed_option_is_still_accepted_under_its_old_name() -> None:
    for (command, old), new in RENAMED.items():
        (option,) = [o for o in OPTIONS if o.command == command and old in o.long]
        assert _primary(option) == new
        assert not any(_primary(o) == old for o in OPTIONS if o.command == command)


@pytest.mark.parametrize(
    ("command", "args", "param", "value"),
    [
        ("dev up", ["--port", "19092"], "kafka_port", 19092),
        ("dev up", ["--kafka-port", "19092"], "kafka_port", 19092),
        ("schemas register", ["--url", "http://127.0.0.1:1"], "registry_url", "http://127.0.0.1:1"),
    ],
)
def test_old_and_new_names_parse_to_the_same_value(
    command: str, args: list[str], param: str, value: Any
) -> None:
    ctx = COMMANDS[command].make_context(command, list(args))
    assert ctx.params[param] == value


def test_one_thing_is_not_named_twice() -> None:
    old_names = {(command, old) for command, old in RENAMED}
    names = {name for o in OPTIONS for name in o.long if (o.command, name) not in old_names}
    twice = sorted((_SUFFIX.sub("", name), name) for name in names if _SUFFIX.sub("", name) in names - {name})
    assert not twice, f"one thing, two names (the second adds only a suffix): {twice}"
    by_help: dict[str, set[str]] = defaultdict(set)
    for option in OPTIONS:
        if option.help:
            by_help[option.help].add(_primary(option))
    assert not [names for names in by_help.values() if len(names) > 1]


def test_a_short_flag_stands_for_one_long_option() -> None:
    meaning: dict[str, set[str]] = defaultdict(set)
    for option in OPTIONS:
        for short in option.short:
            meaning[short].add(_primary(option))
    assert all(len(longs) == 1 for longs in meaning.values()), dict(meaning)


def test_every_new_name_has_its_meaning_written_down() -> None:
    assert set(RENAMED.values()) <= set(SHARED_OPTIONS)
    assert all(meaning.strip() for meaning in SHARED_OPTIONS.values())
