"""Adapters keep their contract on hostile input, found by structure-aware property tests.

Random bytes rarely get past a parser's first check; these strategies build inputs that do: a
valid MSH with random field contents (timestamps at the edges of the calendar, escapes,
non-ASCII in several character sets, control characters), recursive JSON with extreme numbers,
lone surrogates and depth inside FHIR resources and police JSON lines, CSV rows under
recognised headers with random cells, CIN census children with random element text. Whatever
comes in, an adapter yields events that encode against their Avro schemas, or raises
:class:`~exchange.errors.DataError` with a stage, and the good records beside a bad one still
flow. Bounded examples keep this fast; the deepest and largest inputs are marked ``slow``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.adapter import AdapterContext, SourceRecord, StandardEvent, load_adapter
from exchange.cli.translate import event_json
from exchange.errors import DataError

STAGES = {"parse", "map", "validate"}
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _translate(name: str, record: SourceRecord, organisation: str) -> Sequence[StandardEvent] | DataError:
    adapter = load_adapter(name)
    try:
        events = adapter.translate(record, AdapterContext("test", organisation))
    except DataError as exc:
        assert exc.stage in STAGES
        assert exc.message
        return exc
    for event in events:
        json.dumps(event_json(event, "test"))  # what mais translate prints can be printed
    return events


def _outcomes(name: str, data: bytes, organisation: str = "RX1") -> list[Sequence[StandardEvent] | DataError]:
    """Split and translate ``data``; only DataError may come out (validate_events checked Avro)."""
    try:
        records = list(load_adapter(name).split(data, "hostile"))
    except DataError as exc:
        assert exc.stage in STAGES
        return [exc]
    return [_translate(name, record, organisation) for record in records]


# --- HL7 v2: a valid MSH, random field contents --------------------------------------------

_CHARSETS = st.sampled_from(["", "UNICODE UTF-8", "8859/1", "8859/15", "ASCII", "UTF-8"])
_TIMES = st.one_of(
    st.sampled_from(
        [
            "00010101000000+1400",
            "00010101",
            "99991231235959-1400",
            "99991231",
            "20240230",
            "20241301",
            "2024",
            "202403",
            "20240301101500.1234+0000",
            "2024030110",
            "0000",
            "",
            '""',
        ]
    ),
    st.from_regex(r"\d{4,14}([+-]\d{4})?", fullmatch=True),
)
_HEX = st.binary(min_size=1, max_size=6).map(lambda b: "\\X" + b.hex().upper() + "\\")
_ESCAPES = st.sampled_from(["\\F\\", "\\S\\", "\\T\\", "\\R\\", "\\E\\", "\\.br\\", "\\H\\", "\\", '""'])
_TEXT = st.lists(
    st.one_of(
        st.text(max_size=12),  # any code point, controls and non-ASCII included
        st.text(alphabet="ÀÉÎÕÜßçñøåæœ€\u2019ŁŻ日本", max_size=6),
        _HEX,
        _ESCAPES,
        st.sampled_from(["^", "~", "&", "|", "\r", "\n", "\x00", "\x1b", "\x85", "\t"]),
    ),
    max_size=6,
).map("".join)


_BENIGN = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghij0123456789-'", max_size=10)
_GOOD_TIMES = st.sampled_from(["20240301101500", "202403011015+0100", "20100203", "2024"])
# fields a hostile value goes into: (segment, field) -> is it a time
_TARGETS = {
    ("MSH", 7): True, ("MSH", 10): False, ("EVN", 2): True, ("EVN", 6): True, ("PID", 3): False,
    ("PID", 5): False, ("PID", 7): True, ("PID", 8): False, ("PID", 11): False, ("PID", 13): False,
    ("PID", 22): False, ("PID", 29): True, ("PV1", 3): False, ("PV1", 19): False, ("PV1", 44): True,
    ("PV1", 45): True,
}  # fmt: skip


@st.composite
def hl7_messages(draw: st.DrawFn) -> bytes:
    """A valid ADT message with one to three fields replaced by hostile values."""
    charset = draw(_CHARSETS)
    trigger = draw(st.sampled_from(["A01", "A03", "A08", "A11", "A28", "A31", "A40"]))
    fields: dict[tuple[str, int], str] = {
        ("MSH", 7): draw(_GOOD_TIMES), ("MSH", 10): "C1", ("EVN", 2): draw(_GOOD_TIMES), ("EVN", 6): "",
        ("PID", 3): "123^^^RX1^MR~9434765919^^^NHS^NH", ("PID", 5): draw(_BENIGN) + "^" + draw(_BENIGN),
        ("PID", 7): draw(_GOOD_TIMES), ("PID", 8): draw(st.sampled_from(["M", "F", "U"])),
        ("PID", 11): "1 HIGH ST^^LEEDS^^LS1 1AA", ("PID", 13): "0113 496 0000", ("PID", 22): "A",
        ("PID", 29): "", ("PV1", 3): "WARD1^^^RX1", ("PV1", 19): "V1^^^RX1^VN",
        ("PV1", 44): draw(_GOOD_TIMES), ("PV1", 45): "",
    }  # fmt: skip
    for target in draw(st.lists(st.sampled_from(sorted(_TARGETS)), min_size=1, max_size=3, unique=True)):
        fields[target] = draw(_TIMES if _TARGETS[target] else _TEXT)

    def segment(name: str, width: int) -> str:
        values = [name] + [fields.get((name, n), "") for n in range(1, width + 1)]
        return "|".join(values)

    msh7, msh10 = fields["MSH", 7], fields["MSH", 10]
    msh = f"MSH|^~\\&|PAS|RX1|MAIS|LA202|{msh7}||ADT^{trigger}|{msh10}|P|2.5||||||{charset}"
    segments = [msh, segment("EVN", 6), segment("PID", 30), segment("PV1", 45)]
    if trigger == "A40":
        segments.append("MRG|999^^^RX1^MR")
    text = "\r".join(segments) + "\r"
    declared = {"UNICODE UTF-8": "utf-8", "UTF-8": "utf-8", "8859/15": "iso8859_15"}.get(charset, "cp1252")
    codec = draw(st.sampled_from([declared, declared, "utf-8", "latin-1"]))
    return text.encode(codec, errors="replace")


GOOD_ADT = (
    b"MSH|^~\\&|PAS|RX1|MAIS|LA202|20240301101500||ADT^A28|G1|P|2.4\r"
    b"PID|1||123^^^RX1^MR||DOE^JANE||20100203|F\r"
)


@FAST
@given(message=hl7_messages())
def test_hl7_a_valid_msh_with_random_fields_is_events_or_a_data_error(message: bytes) -> None:
    _outcomes("hl7v2", message)


@FAST
@given(message=hl7_messages())
def test_hl7_good_messages_beside_a_hostile_one_still_flow(message: bytes) -> None:
    outcomes = _outcomes("hl7v2", GOOD_ADT + message.replace(b"\rMSH", b"\rXSH") + GOOD_ADT)
    assert not isinstance(outcomes[0], DataError) and outcomes[0]
    assert not isinstance(outcomes[-1], DataError) and outcomes[-1]


# --- JSON: recursive values with extreme numbers and depth, in FHIR and JSON lines -----------

_NUMBERS = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from(
        ["1" * 5000, "-" + "9" * 400, "1e400", "-0", "0.000000000000000000001", "NaN", "Infinity"]
    ),
)
_STRINGS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "\\ud800",
            "\\udfff x",
            "\\u0000",
            "2010-02-30",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
        ]
    ),
)


def _raw(value: Any) -> str:
    """JSON text of a value drawn below (numbers and escapes kept as drawn, unparsed)."""
    if isinstance(value, tuple):  # ("raw", text): a number or escape written as it was drawn
        return str(value[1])
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_raw(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_raw(v) for v in value) + "]"
    return json.dumps(value)


_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    _NUMBERS.map(lambda n: ("raw", n if isinstance(n, str) else json.dumps(n))),
    _STRINGS.map(lambda s: ("raw", f'"{s}"') if s.startswith("\\") or "\\u" in s else s),
)
_JSON = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(["value", "system", "use", "family", "given", "x", "url"]), children, max_size=4
        ),
    ),
    max_leaves=25,
)
_PATIENT_ELEMENTS = st.sampled_from(
    [
        "birthDate",
        "gender",
        "name",
        "telecom",
        "address",
        "identifier",
        "deceasedDateTime",
        "extension",
        "meta",
        "id",
    ]
)


@st.composite
def fhir_documents(draw: st.DrawFn) -> bytes:
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Doe"}]}
    for _ in range(draw(st.integers(1, 4))):
        patient[draw(_PATIENT_ELEMENTS)] = draw(_JSON)
    if draw(st.booleans()):
        episode = {"resourceType": "EpisodeOfCare", "id": "e1", "status": "active", "patient": draw(_JSON)}
        patient = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": patient}, {"resource": episode}],
        }
    return _raw(patient).encode()


GOOD_PATIENT = b'{"resourceType": "Patient", "id": "good", "name": [{"family": "Doe"}]}'


@FAST
@given(document=fhir_documents())
def test_fhir_recursive_json_with_extreme_values_is_events_or_a_data_error(document: bytes) -> None:
    _outcomes("fhir", document)


@FAST
@given(document=fhir_documents())
def test_fhir_good_ndjson_lines_beside_a_hostile_one_still_flow(document: bytes) -> None:
    data = (
        GOOD_PATIENT
        + b"\n"
        + document.replace(b"\n", b" ")
        + b"\n"
        + GOOD_PATIENT.replace(b"good", b"also")
        + b"\n"
    )
    outcomes = _outcomes("fhir", data)
    assert not isinstance(outcomes[0], DataError) and outcomes[0]
    assert not isinstance(outcomes[-1], DataError) and outcomes[-1]


@SLOW
@pytest.mark.slow
@given(depth=st.integers(60, 5000), leaf=_LEAVES)
def test_fhir_and_json_lines_nested_deeper_than_allowed_are_one_data_error(depth: int, leaf: Any) -> None:
    nested = '{"x":' * depth + _raw(leaf) + "}" * depth
    document = '{"resourceType": "Patient", "id": "p", "extension": [' + nested + "]}"
    _outcomes("fhir", document.encode())
    police = (
        '{"notificationId": "N1", "raisedAt": "2024-01-01T10:00:00", "subject": {"personId": "P1"}, "x": '
    )
    outcomes = _outcomes("tabular", GOOD_POLICE + b"\n" + (police + nested + "}").encode() + b"\n", "202")
    assert not isinstance(outcomes[0], DataError) and outcomes[0]


GOOD_POLICE = (
    b'{"notificationId": "N0", "raisedAt": "2024-01-02T10:00:00", "incidentAt": "2024-01-01", '
    b'"subject": {"personId": "P0", "surname": "Doe", "dateOfBirth": "2010-02-03"}}'
)
_POLICE_PATHS = st.sampled_from(
    ["notificationId", "raisedAt", "incidentAt", "policeArea", "subject", "subject.personId",
     "subject.nhsNumber", "subject.surname", "subject.forenames", "subject.dateOfBirth", "subject.gender"]
)  # fmt: skip


@st.composite
def police_lines(draw: st.DrawFn) -> bytes:
    row: dict[str, Any] = json.loads(GOOD_POLICE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(_POLICE_PATHS).split(".")
        node = row
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
        node[path[-1]] = draw(_JSON)
    return _raw(row).encode()


@FAST
@given(line=police_lines())
def test_json_lines_a_hostile_line_is_one_data_error_and_the_others_flow(line: bytes) -> None:
    data = GOOD_POLICE + b"\n" + line.replace(b"\n", b" ") + b"\n" + GOOD_POLICE.replace(b"P0", b"P9") + b"\n"
    outcomes = _outcomes("tabular", data, "202")
    assert len(outcomes) == 3
    assert not isinstance(outcomes[0], DataError) and outcomes[0]
    assert not isinstance(outcomes[2], DataError) and outcomes[2]


# --- CSV: rows under recognised headers, random cells ---------------------------------------

_CELLS = st.one_of(
    st.text(max_size=15),
    st.sampled_from(
        ["30/02/2010", "01/13/2010", "0001-01-01", "9999-12-31", "", "UN1", '"', '""', ",", "\n", "\x00"]
    ),
    st.binary(max_size=8).map(lambda b: b.decode("latin-1")),
)
_TABLES = {
    ("ssda903", "CHILD,SEX,DOB,ETHNIC,UPN", "C1,1,03/05/2008,WBRI,"),
    ("ssda903", "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC", "C1,11/12/2018,P,V4,N4,K2,PR4,,"),
    ("ssda903", "CHILD,MISSING,MIS_START,MIS_END", "C1,M,01/03/2019,03/03/2019"),
    (
        "tabular",
        "PupilID,UPN,Surname,Forename,DOB,EntryDate,SENprovision",
        "P1,,Doe,Jo,2015-01-01,2019-09-04,E",
    ),
    (
        "tabular",
        "CaseRef,ApplicantRef,NHSNumber,Surname,Forenames,DateOfBirth,Phone,Email,ApproachDate,DecisionDate,DutyOutcome",
        "H1,A1,,Doe,Jo,01/01/1990,0113 496 0000,,01/03/2024,15/03/2024,MD",
    ),
}


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, bytes, int]:
    name, header, good = draw(st.sampled_from(sorted(_TABLES)))
    width = header.count(",") + 1
    cells = draw(st.lists(_CELLS, min_size=width, max_size=width))
    if draw(st.booleans()):
        cells[0] = "C1"  # keep the key, so that the other cells are what is tested
    quoted = draw(st.booleans())
    row = ",".join(_csv_cell(c) if quoted else c.replace("\n", " ") for c in cells)
    codec = draw(st.sampled_from(["utf-8", "cp1252", "latin-1"]))
    text = f"{header}\n{good}\n{row}\n{good.replace('1', '7', 1)}\n"
    return name, text.encode(codec, errors="replace"), 2


@FAST
@given(case=csv_files())
def test_csv_rows_with_random_cells_are_events_or_data_errors_and_good_rows_flow(
    case: tuple[str, bytes, int],
) -> None:
    name, data, _ = case
    outcomes = _outcomes(name, data, "202")
    assert not isinstance(outcomes[0], DataError) and outcomes[0]
    assert not isinstance(outcomes[-1], DataError) and outcomes[-1]


@SLOW
@pytest.mark.slow
@given(size=st.integers(140_000, 400_000))  # over the CSV reader's 131,072-character field limit
def test_csv_an_oversized_cell_rejects_its_row_only(size: int) -> None:
    data = (
        b"CHILD,SEX,DOB,ETHNIC,UPN\nC1,1,03/05/2008,WBRI,\nC2,1,"
        + b"9" * size
        + b",WBRI,\nC3,2,03/05/2008,WBRI,\n"
    )
    outcomes = _outcomes("ssda903", data, "202")
    assert len(outcomes) == 3
    assert isinstance(outcomes[1], DataError)
    assert not isinstance(outcomes[0], DataError) and not isinstance(outcomes[2], DataError)


# --- CIN census XML: random element text -----------------------------------------------------

_CIN_ELEMENTS = st.sampled_from(
    [
        "LAchildID",
        "UPN",
        "PersonBirthDate",
        "GenderCurrent",
        "Sex",
        "PersonDeathDate",
        "ExpectedPersonBirthDate",
    ]
)


@st.composite
def cin_children(draw: st.DrawFn) -> bytes:
    identifiers = "".join(
        f"<{element}>{_xml_text(draw(_CELLS))}</{element}>"
        for element in draw(st.lists(_CIN_ELEMENTS, max_size=5))
    )
    details = f"<CINdetails><CINreferralDate>{_xml_text(draw(_CELLS))}</CINreferralDate></CINdetails>"
    good = "<Child><ChildIdentifiers><LAchildID>G1</LAchildID></ChildIdentifiers></Child>"
    hostile = (
        f"<Child><ChildIdentifiers><LAchildID>H1</LAchildID>{identifiers}</ChildIdentifiers>{details}</Child>"
    )
    header = "<Header><Source><LEA>202</LEA></Source></Header>"
    return (
        f"<Message>{header}<Children>{good}{hostile}{good.replace('G1', 'G2')}</Children></Message>".encode()
    )


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@FAST
@given(document=cin_children())
def test_cin_random_element_text_is_events_or_a_data_error_and_other_children_flow(document: bytes) -> None:
    outcomes = _outcomes("cin_census", document, "202")
    if len(outcomes) == 1:  # text XML cannot hold (a control character) makes the file malformed
        assert isinstance(outcomes[0], DataError)
        return
    assert not isinstance(outcomes[0], DataError) and outcomes[0]
    assert not isinstance(outcomes[2], DataError) and outcomes[2]


# --- The cases of issue 15 one by one: each a DataError naming the field ---------------------

_ADT = "MSH|^~\\&|PAS|RX1|MAIS|LA202|{msh7}||ADT^A01|C1|P|2.5||||||{charset}\rEVN|A01|{evn2}\r"
_ADT += (
    "PID|1||123^^^RX1^MR||{name}^JO||20100203\rPV1|1|I|||||||||||||||||V1^^^RX1^VN" + "|" * 25 + "{pv144}\r"
)


def _adt(
    msh7: str = "20240301101500", evn2: str = "", name: str = "DOE", pv144: str = "", charset: str = ""
) -> bytes:
    return _ADT.format(msh7=msh7, evn2=evn2, name=name, pv144=pv144, charset=charset).encode()


def _patient(**elements: Any) -> bytes:
    return json.dumps({"resourceType": "Patient", "id": "p1", **elements}).encode()


_EPISODE = {
    "resourceType": "EpisodeOfCare",
    "id": "e1",
    "status": "active",
    "patient": {"reference": "Patient/p1"},
}


def _police(raised: str = "2024-01-01T00:00:00", surname: str = "DOE") -> bytes:
    row = f'{{"notificationId": "N1", "raisedAt": "{raised}", "incidentAt": "2024-01-01", '
    return (row + f'"subject": {{"personId": "P1", "surname": "{surname}"}}}}').encode()


def _episode(start: str) -> bytes:
    return json.dumps({**_EPISODE, "period": {"start": start}}).encode()


def _census(created: str) -> bytes:
    child = "<Child><ChildIdentifiers><LAchildID>C1</LAchildID></ChildIdentifiers></Child>"
    header = f"<Header><Source><LEA>202</LEA><DateTime>{created}</DateTime></Source></Header>"
    return f"<Message>{header}<Children>{child}</Children></Message>".encode()


_BIG = b'{"resourceType": "Patient", "id": "p1", "multipleBirthInteger": ' + b"9" * 5000 + b"}"


@pytest.mark.parametrize(
    ("adapter", "data", "named"),
    [
        ("hl7v2", _adt(msh7="00010101000000+1400"), "MSH-7"),
        ("hl7v2", _adt(evn2="99991231235959-1400"), "EVN-2"),
        ("hl7v2", _adt(pv144="00010101000000+1400"), "PV1-44"),
        ("hl7v2", _adt(name="D\\XC3\\OE", charset="UNICODE UTF-8"), "PID-5"),  # \X..\ not UTF-8 text
        ("hl7v2", _adt(name="D\x07OE"), "PID-5"),
        ("hl7v2", _adt(charset="UNICODE UTF-8").replace(b"DOE", b"D\xe9OE"), "PID-5"),  # invalid UTF-8
        ("fhir", _patient(meta={"lastUpdated": "0001-01-01T00:00:00+14:00"}), "meta.lastUpdated"),
        ("fhir", _episode("9999-12-31T23:00:00-14:00"), "EpisodeOfCare.period.start"),
        ("fhir", _patient(name=[{"family": "D\u0007OE"}]), "Patient.name[0].family"),
        ("fhir", _BIG, "number"),
        ("fhir", b'{"resourceType": "Patient", "extension": ' + b"[" * 100 + b"]" * 100 + b"}", "nested"),
        ("fhir", b'{"resourceType": "Patient", "id": "p\xff1"}', "UTF-8"),
        ("tabular", _police(raised="0001-01-01T00:00:00+1400"), "raisedAt"),
        ("tabular", _police(surname="D\\u0007OE"), "subject.surname"),
        ("cin_census", _census("0001-01-01T00:00:00+14:00"), "Header/Source/DateTime"),
        ("ssda903", b"CHILD,SEX,DOB,ETHNIC,UPN\nC1,1,03/05/2008,WBRI,A\x1bB\n", "UPN"),
    ],
)  # fmt: skip
def test_each_hostile_value_is_a_data_error_naming_the_field(adapter: str, data: bytes, named: str) -> None:
    (outcome,) = _outcomes(adapter, data, "202" if adapter in ("tabular", "cin_census", "ssda903") else "RX1")
    assert isinstance(outcome, DataError)
    assert named in outcome.message
