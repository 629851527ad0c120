"""HL7 v2.4 ADT feeds: a GP practice system and a hospital PAS.

* GP (``hl7/gp_adt.hl7``): A28 when a person registers, A31 when they tell the practice they
  moved (new home address, the old one as ``BA``). A practice that was never told keeps the
  old address and sends no A31.
* Hospital (``hl7/hospital_adt.hl7``): A04 outpatient attendances, A01/A03 admissions and
  discharges, A08 updates, and now and then a duplicate registration (new MRN, a typo, no NHS
  number) later fixed by an A40 merge.

PID-3 repeats the local MRN (assigning authority = the organisation, type ``MR``) and the NHS
number (authority ``NHS``, type ``NH``) when the organisation holds one. Segments end in ``\\r``
and each message is followed by a newline; ``mllp/*.mllp`` holds the same messages in MLLP frames
(``0x0B`` message ``0x1C 0x0D``), ready for an MLLP sender.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from pathlib import Path

from exchange.samples._noise import Noise, Recorded, recorded, transpose
from exchange.samples._people import (
    NHS_ETHNIC_CATEGORY,
    REFERENCE_DATE,
    Address,
    Household,
    Person,
    Population,
)
from exchange.samples._truth import SampleFile, SampleSet, TruthRow

__all__ = ["GP_PRACTICE", "HOSPITAL_TRUST", "write_hl7"]

GP_PRACTICE = "Y99001"
"""Fictional ODS code of the GP practice."""
HOSPITAL_TRUST = "R9Z"
"""Fictional ODS code of the hospital trust."""

_GP_NOISE = Noise(nickname=0.05, typo=0.03, stale_address=0.3, missing_nhs=0.01, dob_swap=0.005)
_HOSPITAL_NOISE = Noise(nickname=0.15, typo=0.06, stale_address=0.4, missing_nhs=0.08, dob_swap=0.02)
_RELATIONSHIP = {"MTH": "Mother", "FTH": "Father", "GRM": "Grandmother"}
_DOCTORS = ("C9900001^OKONJO^ADA", "C9900002^FENWICK^PAUL", "C9900003^RAHMAN^SADIA")
_STRUCTURES = {"A01": "ADT_A01", "A03": "ADT_A03", "A04": "ADT_A01", "A08": "ADT_A01", "A28": "ADT_A05"}
_STRUCTURES |= {"A31": "ADT_A05", "A40": "ADT_A39"}
_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"))

Message = tuple[datetime, str, str, list[str]]
"""(when, person id, MRN, segments) before messages are numbered."""


def _esc(text: str) -> str:
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def _moment(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(rng.randrange(8, 20), rng.randrange(60), rng.randrange(60)))


def _xad(address: Address, kind: str) -> str:
    return f"{_esc(address.line1)}^^{_esc(address.town)}^^{address.postcode}^GBR^{kind}"


class _Feed:
    """Messages of one sending system, with its own MRNs and visit numbers."""

    def __init__(self, rng: random.Random, facility: str, application: str) -> None:
        self.rng = rng
        self.facility = facility
        self.application = application
        self.messages: list[Message] = []
        self.mrns: dict[str, str] = {}
        self._issued: set[str] = set()

    def number(self, prefix: str) -> str:
        while True:
            value = f"{prefix}{self.rng.randrange(10**6, 10**7)}"
            if value not in self._issued:
                self._issued.add(value)
                return value

    def mrn(self, person: Person) -> str:
        if person.person_id not in self.mrns:
            self.mrns[person.person_id] = self.number("M")
        return self.mrns[person.person_id]

    def pid(self, view: Recorded, person: Person, mrn: str, addresses: list[str]) -> str:
        ids = f"{mrn}^^^{self.facility}^MR"
        if view.nhs_number:
            ids += f"~{view.nhs_number}^^^NHS^NH"
        name = f"{_esc(view.family.upper())}^{_esc(view.given.upper())}^{_esc(view.middle.upper())}^^^^L"
        if view.preferred and view.preferred != view.given:
            name += f"~{_esc(view.family.upper())}^{_esc(view.preferred.upper())}^^^^^N"
        dob = view.birth_date.strftime("%Y%m%d")
        fields = ["PID", "1", "", ids, "", name, "", dob, person.sex, "", "", "~".join(addresses), ""]
        fields += [person.phone.replace(" ", ""), "", "", "", "", "", "", "", ""]
        fields.append(NHS_ETHNIC_CATEGORY.get(person.ethnicity, "Z"))  # PID-22
        return "|".join(fields)

    def add(self, when: datetime, person: Person, mrn: str, trigger: str, body: list[str]) -> None:
        structure = _STRUCTURES[trigger]
        # MSH-10 (control id) is numbered in feed order when the feed is written
        msh = (
            f"MSH|^~\\&|{self.application}|{self.facility}|MAIS|LA999|{_ts(when)}||"
            f"ADT^{trigger}^{structure}|{{control}}|P|2.4|||AL|NE|GBR|UNICODE UTF-8"
        )
        evn = f"EVN|{trigger}|{_ts(when)}"
        self.messages.append((when, person.person_id, mrn, [msh, evn, *body]))


def _nk1(household_adults: list[Person], person: Person) -> list[str]:
    if not person.is_child:
        return []
    segments = []
    for index, adult in enumerate(household_adults, start=1):
        code = adult.relationship or "GRD"
        label = _RELATIONSHIP.get(code, "Guardian")
        name = f"{_esc(adult.family.upper())}^{_esc(adult.given.upper())}"
        segments.append(f"NK1|{index}|{name}|{code}^{label}^HL70063")
    return segments


def _gp(feed: _Feed, person: Person, household: Household) -> None:
    rng = feed.rng
    view = recorded(person, _GP_NOISE, rng)
    mrn = feed.mrn(person)
    # babies register within weeks of birth; others joined the practice some time in the last ten years
    joined = REFERENCE_DATE - timedelta(days=rng.randrange(30, 3650))
    registered = max(person.birth_date + timedelta(days=rng.randrange(7, 40)), joined)
    first_address = person.previous_address or person.address
    adults = household.adults
    moved_on = household.moved_on if person.previous_address is not None and not view.stale else None
    if moved_on is not None:
        registered = max(min(registered, moved_on - timedelta(days=rng.randrange(1, 60))), person.birth_date)
    pd1 = f"PD1|||MARSHFORD SURGERY^^{GP_PRACTICE}"
    body = [feed.pid(view, person, mrn, [_xad(first_address, "H")]), pd1, *_nk1(adults, person)]
    feed.add(_moment(rng, registered), person, mrn, "A28", body)
    if moved_on is not None and person.previous_address is not None:
        addresses = [_xad(person.address, "H"), _xad(person.previous_address, "BA")]
        body = [feed.pid(view, person, mrn, addresses), pd1, *_nk1(adults, person)]
        feed.add(_moment(rng, moved_on), person, mrn, "A31", body)


def _pv1(feed: _Feed, patient_class: str, visit: str, admitted: datetime, discharged: datetime | None) -> str:
    fields = ["PV1", "1", patient_class] + [""] * 43
    fields[3] = "CHILDRENS WARD^BAY 2^BED 4^" + feed.facility if patient_class == "I" else "OPD CLINIC 3"
    fields[7] = feed.rng.choice(_DOCTORS) + "^^^DR^^^GMC"
    fields[10] = "420" if patient_class == "I" else "300"
    fields[19] = f"{visit}^^^{feed.facility}^VN"
    fields[44] = _ts(admitted)
    fields[45] = _ts(discharged) if discharged else ""
    return "|".join(fields)


def _hospital(feed: _Feed, person: Person) -> None:
    rng = feed.rng
    view = recorded(person, _HOSPITAL_NOISE, rng)
    mrn = feed.mrn(person)
    addresses = [_xad(view.address, "H")]
    since = max(person.birth_date, REFERENCE_DATE - timedelta(days=730))
    for _ in range(rng.randrange(1, 3)):
        day = since + timedelta(days=rng.randrange(max((REFERENCE_DATE - since).days, 1)))
        when = _moment(rng, day)
        visit = feed.number("V")
        pid = feed.pid(view, person, mrn, addresses)
        if rng.random() < 0.35:
            out = when + timedelta(days=rng.randrange(1, 6), hours=rng.randrange(1, 8))
            feed.add(when, person, mrn, "A01", [pid, _pv1(feed, "I", visit, when, None)])
            feed.add(out, person, mrn, "A03", [pid, _pv1(feed, "I", visit, when, out)])
        else:
            feed.add(when, person, mrn, "A04", [pid, _pv1(feed, "O", visit, when, None)])
    if rng.random() < 0.2:
        update = _moment(rng, REFERENCE_DATE - timedelta(days=rng.randrange(1, 60)))
        feed.add(update, person, mrn, "A08", [feed.pid(view, person, mrn, addresses)])
    if rng.random() < 0.08:
        _duplicate_then_merge(feed, person, view, mrn)


def _duplicate_then_merge(feed: _Feed, person: Person, view: Recorded, mrn: str) -> None:
    """A second registration under a new MRN (typo, no NHS number), merged into the first later."""
    rng = feed.rng
    duplicate = feed.number("M")
    given = transpose(view.given, rng)
    careless = Recorded(given, view.middle, view.family, "", view.birth_date, None, view.address, view.stale)
    when = _moment(rng, REFERENCE_DATE - timedelta(days=rng.randrange(60, 120)))
    visit = feed.number("V")
    pid = feed.pid(careless, person, duplicate, [_xad(view.address, "H")])
    feed.add(when, person, duplicate, "A04", [pid, _pv1(feed, "O", visit, when, None)])
    merged = when + timedelta(days=rng.randrange(2, 30))
    body = [feed.pid(view, person, mrn, [_xad(view.address, "H")]), f"MRG|{duplicate}^^^{feed.facility}^MR"]
    feed.add(merged, person, mrn, "A40", body)


def _write(feed: _Feed, out: Path, name: str, agency: str, description: str) -> SampleSet:
    ordered = sorted(feed.messages, key=lambda m: (m[0], m[3][0]))
    texts = [
        "\r".join(segments).replace("{control}", f"{feed.application}{number:06d}", 1) + "\r"
        for number, (_, _, _, segments) in enumerate(ordered, start=1)
    ]
    hl7_file, mllp_file = f"hl7/{name}.hl7", f"mllp/{name}.mllp"
    (out / "hl7").mkdir(parents=True, exist_ok=True)
    (out / "mllp").mkdir(parents=True, exist_ok=True)
    (out / hl7_file).write_bytes("".join(t + "\n" for t in texts).encode("utf-8"))
    (out / mllp_file).write_bytes(b"".join(b"\x0b" + t.encode("utf-8") + b"\x1c\r" for t in texts))
    samples = SampleSet()
    for path in (hl7_file, mllp_file):
        samples.files.append(SampleFile(path, "hl7v2", agency, feed.facility, description))
        for number, (_, person_id, mrn, _) in enumerate(ordered, start=1):
            samples.truth.append(TruthRow(person_id, agency, "hl7v2", path, number, mrn))
    return samples


def write_hl7(population: Population, out: Path) -> SampleSet:
    """Write the GP and hospital ADT feeds (plain and MLLP-framed) under ``out``."""
    gp = _Feed(random.Random(f"mais-samples:{population.seed}:gp"), GP_PRACTICE, "GPSYS")  # noqa: S311
    hospital = _Feed(random.Random(f"mais-samples:{population.seed}:hospital"), HOSPITAL_TRUST, "PAS")  # noqa: S311
    for household in population.households:
        for person in household.members:
            if "gp" in person.agencies:
                _gp(gp, person, household)
            if "hospital" in person.agencies:
                _hospital(hospital, person)
    samples = _write(gp, out, "gp_adt", "gp", "GP practice registrations (A28/A31)")
    description = "Hospital PAS ADT (A01/A03/A04/A08/A40)"
    samples.extend(_write(hospital, out, "hospital_adt", "hospital", description))
    return samples
