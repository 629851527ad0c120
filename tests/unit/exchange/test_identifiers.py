"""Identifier systems and validators: known valid and invalid national identifiers."""

from __future__ import annotations

import pytest

from exchange.identifiers import (
    FORMER_UPN_SYSTEM,
    NHS_NUMBER_SYSTEM,
    UPN_SYSTEM,
    Identifier,
    checked_la_child_id,
    checked_nhs_number,
    checked_upn,
    is_valid_nhs_number,
    is_valid_upn,
    la_child_id_system,
    local_system,
    upn_check_letter,
)


class Warnings:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, code: str, message: str) -> None:
        self.seen.append((code, message))


@pytest.mark.parametrize("value", ["9434765919", "4010232137", "1000000060"])
def test_valid_nhs_numbers_pass_modulus_11(value: str) -> None:
    assert is_valid_nhs_number(value)


@pytest.mark.parametrize(
    "value",
    [
        "9434765918",  # wrong check digit
        "1000000010",  # check digit would be 10: no valid number has this prefix
        "943476591",  # nine digits
        "94347659190",  # eleven digits
        "943476591X",
        "\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19",  # full-width digits
        "",
    ],
)
def test_invalid_nhs_numbers_fail(value: str) -> None:
    assert not is_valid_nhs_number(value)


def test_checked_nhs_number_accepts_typed_spacing_and_warns_without_the_value() -> None:
    warn = Warnings()
    assert checked_nhs_number("943 476 5919", where="PID-3[1]", warn=warn) == Identifier(
        NHS_NUMBER_SYSTEM, "9434765919"
    )
    assert checked_nhs_number("9434765918", where="PID-3[2]", warn=warn) is None
    assert checked_nhs_number("  ", where="PID-3[3]", warn=warn) is None
    assert len(warn.seen) == 1
    code, message = warn.seen[0]
    assert code == "invalid-nhs-number"
    assert "PID-3[2]" in message
    assert "9434765918" not in message


@pytest.mark.parametrize(
    "value",
    [
        "H801200001001",  # DfE UPN guidance example
        "B801200005001",
        "G80120000101A",  # temporary UPN (final letter counts by its alphabet index)
    ],
)
def test_valid_upns(value: str) -> None:
    assert is_valid_upn(value)


@pytest.mark.parametrize(
    "value",
    [
        "Z801200001001",  # wrong check letter
        "A801200005001",
        "B80120000500",  # too short
        "B80120000A001",  # letter in the middle
        "G80120000101I",  # I, O and S never end a temporary UPN
        "h801200001001",  # lower case must be normalised by the caller
    ],
)
def test_invalid_upns(value: str) -> None:
    assert not is_valid_upn(value)


def test_upn_check_letter_skips_i_o_s() -> None:
    # 2*8 + 4*1 + 5*2 + 10*5 + 13*1 = 93, 93 mod 23 = 1 -> B
    assert upn_check_letter("801200005001") == "B"
    with pytest.raises(ValueError, match="12 characters"):
        upn_check_letter("8012")


def test_checked_upn_normalises_case_and_separates_former_upns() -> None:
    warn = Warnings()
    assert checked_upn("h801200001001", where="UPN", warn=warn) == Identifier(UPN_SYSTEM, "H801200001001")
    assert checked_upn("B801200005001", where="FormerUPN", warn=warn, former=True) == Identifier(
        FORMER_UPN_SYSTEM, "B801200005001"
    )
    assert checked_upn("Z801200001001", where="FormerUPN", warn=warn, former=True) is None
    assert warn.seen == [("invalid-former-upn", "FormerUPN: UPN has a wrong shape or check letter; left out")]


def test_la_child_ids_are_namespaced_by_la() -> None:
    warn = Warnings()
    one = checked_la_child_id("DfEX0000001", la_code="202", where="LAchildID", warn=warn)
    other = checked_la_child_id("DfEX0000001", la_code="203", where="LAchildID", warn=warn)
    assert one is not None and other is not None
    assert one.value == other.value
    assert one.system != other.system
    assert one.system == la_child_id_system("202")
    assert checked_la_child_id("x" * 65, la_code="202", where="LAchildID", warn=warn) is None
    assert [code for code, _ in warn.seen] == ["invalid-la-child-id"]


def test_system_builders_reject_unsafe_parts() -> None:
    with pytest.raises(ValueError):
        la_child_id_system("20")
    with pytest.raises(ValueError):
        local_system("RX1/../x", "mrn")
    assert local_system("RX1", "mrn").endswith("/local/RX1/mrn")


def test_identifier_key_and_record_forms() -> None:
    ident = Identifier(NHS_NUMBER_SYSTEM, "9434765919")
    assert ident.key() == "https://fhir.nhs.uk/Id/nhs-number|9434765919"
    assert ident.as_record() == {"system": NHS_NUMBER_SYSTEM, "value": "9434765919"}
