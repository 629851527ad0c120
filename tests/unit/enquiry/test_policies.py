"""Policy files: both spellings of field names, JSON and TOML, errors that name the file and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from exchange.errors import ConfigError
from exchange.purposes import DATA_CONTACT, DATA_INVOLVEMENT, purpose_from_coding, purpose_from_text
from services.enquiry._policies import load_policies

POLICIES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "enquiry" / "policies"
S47 = "http://www.legislation.gov.uk/id/ukpga/1989/41/section/47"


def test_json_with_published_names_and_toml_with_ours_load_alike() -> None:
    s42, s47 = sorted(load_policies(POLICIES), key=lambda p: p.uri)
    assert s47.purposes == {S47} and s47.data >= {DATA_CONTACT, DATA_INVOLVEMENT}
    assert s42.purposes == {"http://www.legislation.gov.uk/id/ukpga/2014/23/section/42"}
    assert ("https://mais.example.org/Id/organisation", "northvale-nhs-trust") in s42.parties
    assert s47.permitted == {"read"} and s47.restricted == {"distribute"}
    # a date-only end date runs to the end of that day
    assert s42.end_ms - s42.start_ms == (365 * 24 * 3600 * 1000) - 1


@pytest.mark.parametrize(
    "text",
    [
        "http://www.legislation.gov.uk/id/ukpga/1989/41/section/47",
        "https://www.legislation.gov.uk/ukpga/1989/41/section/47",
        "https://legislation.gov.uk/ukpga/1989/41/section/47/",
        "children-act-1989-s47",
    ],
)
def test_both_forms_of_legislation_uris_name_one_purpose(text: str) -> None:
    purpose = purpose_from_text(text)
    assert purpose is not None and purpose.uri == S47


def test_codings_from_the_legislation_site_or_our_system() -> None:
    assert purpose_from_coding(
        {"system": "https://www.legislation.gov.uk", "code": "ukpga/1989/41/section/17"}
    )
    assert purpose_from_coding({"system": "https://example.org/purposes", "code": "s47"}) is None


def _write(tmp_path: Path, name: str, **changes: Any) -> Path:
    policy = json.loads((POLICIES / "southshire-s47.json").read_text())
    for key, value in changes.items():
        if value is None:
            del policy[key]
        else:
            policy[key] = value
    (tmp_path / name).write_text(json.dumps(policy))
    return tmp_path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"Name": None}, "field name: Field required"),
        (
            {"Purpose": ["https://www.legislation.gov.uk/ukpga/2018/12/section/8"]},
            "field Purpose.0: Value error, not a purpose",
        ),
        ({"EndDate": "2025-01-01"}, "field EndDate: Value error, ends before it starts"),
        ({"StartDate": "first of January"}, "field StartDate: Value error"),
        ({"Party": []}, "field Party: List should have at least 1 item"),
        ({"Colour": "blue"}, "field Colour: Extra inputs are not permitted"),
    ],
)
def test_errors_name_the_file_and_the_field(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_policies(_write(tmp_path, "broken.json", **changes))
    assert raised.value.message.startswith(f"{tmp_path / 'broken.json'}: ")
    assert message in raised.value.message


def test_bad_syntax_and_duplicates_and_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"a\.json: not valid JSON"):
        load_policies(tmp_path)
    (tmp_path / "a.json").unlink()
    _write(tmp_path, "a.json")
    _write(tmp_path, "b.json")
    with pytest.raises(ConfigError, match=r"b\.json: field uri: the same policy is also in .*a\.json"):
        load_policies(tmp_path)
    with pytest.raises(ConfigError, match=r"holds no \.json or \.toml policy"):
        load_policies(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else tmp_path)
