from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exchange.cli import app
from exchange.errors import ConfigError, PrerequisiteError
from exchange.runtime import DirectorySource, KafkaSource, ListenerSource, parse_source, resolve_adapter


def test_source_uris() -> None:
    assert parse_source("kafka:mais.raw.hl7") == KafkaSource("mais.raw.hl7")
    assert parse_source("dir:/srv/drop") == DirectorySource(Path("/srv/drop"))
    assert parse_source("http:0.0.0.0:8080") == ListenerSource("http", "0.0.0.0", 8080)  # noqa: S104
    assert parse_source("mllp:127.0.0.1:2575") == ListenerSource("mllp", "127.0.0.1", 2575)
    assert str(parse_source("kafka:raw")) == "kafka:raw"


@pytest.mark.parametrize(
    "uri", ["raw", "kafka:", "kafka:bad topic", "ftp:host:21", "http:host", "mllp:host:99999", "http::80"]
)
def test_bad_source_uris_are_usage_errors(uri: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_source(uri)
    assert caught.value.hint


def test_adapters_are_found_by_module_and_attribute() -> None:
    loaded = resolve_adapter("runtime_people_adapter:fixed_adapter")
    assert loaded.adapter.name == "people_csv"
    assert loaded.resolve_schema("mais.test.RuntimePerson").startswith("{")
    with pytest.raises(LookupError):
        loaded.resolve_schema("mais.test.Nothing")
    with pytest.raises(ConfigError):
        resolve_adapter("runtime_people_adapter:split_lines")  # not an Adapter
    with pytest.raises(ConfigError):
        resolve_adapter("no_such_module:adapter")
    with pytest.raises(ConfigError):
        resolve_adapter("no-such-adapter")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--agency", "Leeds CC", "--source", "kafka:raw"], "agency"),
        (["--agency", "leeds-cc", "--source", "ftp:x"], "source kind"),
        (["--agency", "leeds-cc", "--source", "kafka:raw", "--subject-strategy", "x"], "subject strategy"),
    ],
)
def test_adapter_run_refuses_bad_usage_before_starting(args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(app, ["adapter", "run", "--adapter", "runtime_people_adapter:adapter", *args])
    assert isinstance(result.exception, ConfigError)
    assert fragment in result.exception.message
    assert result.exception.exit_code == 2


def test_an_mllp_port_in_use_is_a_prerequisite_error_with_a_hint(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            app,
            ["adapter", "run", "--adapter", "hl7v2", "--agency", "leeds-cc",
             "--source", f"mllp:127.0.0.1:{port}", "--registry-url", "http://127.0.0.1:9"],
            env={"MAIS_KEYED_HASH_SECRET": "a test secret of enough bytes"},
        )  # fmt: skip
    assert isinstance(result.exception, PrerequisiteError)
    assert f"cannot listen on 127.0.0.1:{port}" in result.exception.message
    assert result.exception.hint == "choose a free port in --source"


def test_adapter_run_needs_the_agency_secret_for_keyed_hashes_and_says_how_to_make_one() -> None:
    result = CliRunner().invoke(
        app,
        ["adapter", "run", "--adapter", "hl7v2", "--agency", "leeds-cc", "--source", "kafka:raw"],
        env={"MAIS_KEYED_HASH_SECRET": None},
    )
    assert isinstance(result.exception, ConfigError)
    assert result.exception.message == "MAIS_KEYED_HASH_SECRET is not set"
    assert "secrets.token_urlsafe" in (result.exception.hint or "")
    short = CliRunner().invoke(
        app,
        ["adapter", "run", "--adapter", "hl7v2", "--agency", "leeds-cc", "--source", "kafka:raw"],
        env={"MAIS_KEYED_HASH_SECRET": "too short"},
    )
    assert isinstance(short.exception, ConfigError)
    assert "shorter than 16 bytes" in short.exception.message
    assert "too short" not in short.exception.message + (short.exception.hint or "")


def test_standard_schemas_are_found_after_the_adapter_module() -> None:
    loaded = resolve_adapter("runtime_people_adapter:adapter")
    assert '"PersonRecorded"' in loaded.resolve_schema("mais.v1.PersonRecorded")
