"""``mais translate`` as a user runs it: stdout events, stderr rejects, exit 0 / 3 / 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exchange.cli import app

FIXTURES = Path(__file__).parents[2] / "fixtures" / "adapters"
GOOD_ADT = (
    b"MSH|^~\\&|PAS|RX1|MAIS|LA202|20240301101500||ADT^A28|1|P|2.4\r"
    b"PID|1||123^^^RX1^MR~9434765919^^^NHS^NH||DOE^JANE||20100203|F\r"
)
BAD_ADT = b"MSH|^~\\&|PAS|RX1|MAIS|LA202|20240301101500||ADT^A28|2|P|2.4\rPID|1||^^^RX1^MR||DOE^JO\r"
ODD_DOB = b"MSH|^~\\&|PAS|RX1|MAIS|LA202|20240301101500||ADT^A28|3|P|2.4\rPID|1||42^^^RX1^MR||DOE||20101301\r"


def _mais(*args: str) -> subprocess.CompletedProcess[str]:
    code = "from exchange.cli import main; main()"
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, check=False, env=env
    )


def test_good_file_prints_events_and_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "good.hl7"
    path.write_bytes(GOOD_ADT)
    result = _mais("translate", "--adapter", "hl7v2", "--agency", "rx1", "--organisation", "RX1", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    (line,) = result.stdout.splitlines()
    event = json.loads(line)
    assert set(event) == {"topic", "key", "schema", "value"}
    assert event["topic"] == "mais.rx1.person.v1"
    assert event["schema"] == "mais.v1.PersonRecorded"
    assert event["key"] == "https://mais-exchange.org/Id/local/RX1/mrn|123"
    assert event["value"]["person"]["dateOfBirth"] == {"date": "2010-02-03", "accuracyIndicator": "AAA"}


def test_partly_bad_file_prints_rejects_on_stderr_and_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "mixed.hl7"
    path.write_bytes(GOOD_ADT + BAD_ADT + GOOD_ADT)
    result = _mais("translate", "-a", "hl7v2", str(path))
    assert result.returncode == 3
    assert len(result.stdout.splitlines()) == 2
    (reject,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert reject == {
        "file": str(path),
        "record": "mixed.hl7#2",
        "stage": "map",
        "error": "PID-3 holds no usable patient identifier",
    }


def test_a_bad_field_is_a_warning_shown_with_warnings_and_the_person_still_flows(tmp_path: Path) -> None:
    path = tmp_path / "odd.hl7"
    path.write_bytes(GOOD_ADT + ODD_DOB)
    quiet = _mais("translate", "-a", "hl7v2", "--organisation", "RX1", str(path))
    assert quiet.returncode == 0
    assert quiet.stderr == ""
    shown = _mais("translate", "-a", "hl7v2", "--organisation", "RX1", "--warnings", str(path))
    assert shown.returncode == 0
    assert shown.stdout == quiet.stdout
    people = [json.loads(line)["value"]["person"] for line in shown.stdout.splitlines()]
    assert [("dateOfBirth" in p) for p in people] == [True, False]
    (warning,) = [json.loads(line) for line in shown.stderr.splitlines()]
    assert warning == {
        "file": str(path),
        "record": "odd.hl7#2",
        "warning": "invalid-date-of-birth",
        "message": "PID-7 is not a valid calendar date; left out",
    }


def test_unreadable_file_is_a_read_reject_and_the_others_still_run(tmp_path: Path) -> None:
    good = tmp_path / "good.hl7"
    good.write_bytes(GOOD_ADT)
    folder = tmp_path / "a-directory.hl7"
    folder.mkdir()
    result = _mais("translate", "-a", "hl7v2", str(folder), str(good))
    assert result.returncode == 3
    assert len(result.stdout.splitlines()) == 1
    (reject,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert reject["stage"] == "read"
    assert reject["file"] == str(folder)
    assert reject["record"] is None


@pytest.mark.parametrize(
    "args",
    [
        ["translate", "-a", "no-such-adapter", "x"],
        ["translate", "-a", "hl7v2", "/no/such/file.hl7"],
        ["translate", "-a", "hl7v2"],
        ["translate", "x.hl7"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = _mais(*args)
    assert result.returncode == 2
    assert result.stdout == ""


def test_every_fixture_folder_translates_as_its_golden_files_say() -> None:
    folder = FIXTURES / "ssda903"
    inputs = sorted(p.name for p in folder.iterdir() if p.suffix == ".csv")
    result = subprocess.run(
        [sys.executable, "-c", "from exchange.cli import main; main()", "translate", "-a", "ssda903",
         "--agency", "la202", "--organisation", "202", *inputs],
        capture_output=True, text=True, timeout=60, check=False, cwd=folder,
    )  # fmt: skip
    assert result.returncode == 3
    expected = [json.loads(line) for line in (folder / "expected_rejects.jsonl").read_text().splitlines()]
    assert [json.loads(line) for line in result.stderr.splitlines()] == expected
    assert len(result.stdout.splitlines()) == len((folder / "expected.jsonl").read_text().splitlines())


RUN_SSDA903 = ["adapter", "run", "--adapter", "ssda903", "--agency", "la202", "--source", "dir:{drop}"]
SSDA903_LINE = (
    "error: the ssda903 adapter needs --organisation to be a three-digit DfE local authority number "
    "(e.g. 202), not 'RX1'"
)


@pytest.mark.parametrize(
    "command",
    [
        ["translate", "-a", "ssda903", "--organisation", "RX1", "{header}"],
        [*RUN_SSDA903, "--organisation", "RX1"],
        [*RUN_SSDA903, "--organisation-id", "RX1"],  # the old name, accepted for one release
        ["dlq", "replay", "--agency", "la202", "--adapter", "ssda903", "--all", "--organisation", "RX1",
         "--bootstrap-servers", "127.0.0.1:9"],
    ],
)  # fmt: skip
def test_an_organisation_the_adapter_cannot_use_is_one_usage_line_before_any_record(
    tmp_path: Path, command: list[str]
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    header = FIXTURES / "ssda903" / "header.csv"
    args = [a.format(header=header, drop=drop) for a in command]
    result = _mais(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [SSDA903_LINE]


def test_translate_help_shows_a_clean_usage_line() -> None:
    result = CliRunner().invoke(app, ["translate", "--help"], prog_name="mais", env={"COLUMNS": "100"})
    assert result.exit_code == 0
    usage = next(line.strip() for line in result.output.splitlines() if "Usage:" in line)
    assert usage == "Usage: mais translate [OPTIONS] {FILE}..."
    assert "COMMAND" not in result.output
