# ruff: noqa: E501  (code labels are published text; keeping each on one line keeps the table greppable)
"""Catalogue of the open and unsettled vocabularies carried as ``Coding`` values.

PUB02 publishes its code lists separately from the data model and expects them to grow, and
the information-governance vocabularies (sharing purposes, policy actions) are not yet
published at all. Making them Avro enums would turn every new code into a breaking schema
change, so they travel as ``Coding`` (code + system + display); the field names its vocabulary
in a ``vocabulary`` attribute and this catalogue says what a valid coding of it looks like:

* *unsettled* lists (PUB02 organisation, service, episode, event, observation and measurement
  types): the code must be one of the published codes (or match a published code pattern such
  as ``EAL.<ISO 639-1>``) and the system must be the vocabulary's system URI;
* *external* lists (HL7 ParticipationType, GTS abbreviations): the system must be the external
  code system; the code is checked for shape only, the full list being maintained by HL7;
* *open* lists (not yet published): any code from any absolute-URI system.

Code lists below are transcribed from PUB02 (2026), the newest reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = ["VOCABULARIES", "Vocabulary", "coding_problem"]

_PUB02 = "https://socialcaredata.github.io/publications_safeguarding_standard"

_ORGANISATION_CODES: Final = {
    "local-authority": "Local Authority",
    "nhs-trust": "NHS Trust",
    "police-force": "Police Force",
}

_SERVICE_CODES: Final = {
    "youth-offending": "Youth Offending Team",
    "primary-school": "Primary School",
    "high-school": "Secondary or High School",
    "SEN-primary-school": "Primary School with specialist SEN services",
    "SEN-high-school": "Secondary or High School with specialist SEN services",
    "alternative-provision-school": "Alternative provision school",
    "social-care": "Social Care Department",
    "family-court": "Family Court",
    "CAMHS": "Children and Adolescent mental health services",
    "reablement": "Reablement",
    "short-term-nursing-care": "Short term nursing care",
    "short-term-residential-care": "Short term residential care",
    "long-term-nursing-care": "Long term nursing care",
    "long-term-residential-care": "Long term residential care",
    "home-support-domiciliary": "Home support or domiciliary care",
    "day-support": "Day support",
    "meals": "Meals",
    "transport": "Transport",
    "equipment": "Equipment",
    "direct-payment": "Direct payment",
    "shared-lives": "Shared Lives",
    "community-supported-living": "Community supported living",
    "extra-care-housing": "Extra care housing",
    "social-worker-support": "Professional support: Social worker",
    "other-professional-support": "Professional support: Other",
    "learning-education-employment": "Learning, education or employment support",
    "end-of-life-care": "End of life care",
    "emergency-support": "Emergency support",
    "other-short-term-support": "Other short term support",
    "other-long-term-support": "Other long term support",
    "carer-respite": "Unpaid carer respite",
    "carer-sitting-service": "Unpaid carer sitting service",
    "carer-universal-services": "Unpaid carer universal services",
    "other-carer-support": "Other unpaid carer support",
}

_EPISODE_CODES: Final = {
    "early-help": "Early Help Assessment / Intervention",
    "ehcp": "Education, Health, and Care plan",
    "family-court-order": "Any order made by family court",
    "cin-plan": "Child in Need (CIN) Plan",
    "cp-plan": "Child Protection (CP) Plan",
    "CAMHS-plan": "Children and Adolescent mental health services care plan",
    "section-47": "Section 47 Enquiry",
    "care-leaver": "Care Leaver Support",
    "child-looked-after": "Child in LA care",
    "adult-safeguarding": "Adult Safeguarding Enquiry (Section 42)",
}

_EVENT_CODES: Final = {
    "birth": "Birth",
    "death": "Death",
    "ae-attendance": "A&E Attendance",
    "school-exclusion": "School Exclusion",
    "school-suspension": "School Suspension",
    "missing-person": "Reported Missing",
    "safeguarding-concern": "Safeguarding Concern Raised",
    "referral": "Referral made to relevant authority",
    "homeless": "Made homeless",
}

_INVOLVEMENT_CODES: Final = {
    "SBJ": "Subject",
    "PPRF": "Primary performer",
    "WIT": "Witness",
    "RESP": "Responsible party",
    "AUT": "Author (originator)",
    "INF": "Informant",
}

_OBSERVATION_CODES: Final = {
    "SEND": "Observed special educational needs and disabilities, via DfE codes",
    "SEND.SpLD": "Specific learning Difficulty",
    "SEND.MLD": "Moderate Learning Difficulty",
    "SEND.SLD": "Severe Learning Difficulty",
    "SEND.PMLD": "Profound and Multiple Learning Difficulty",
    "SEND.SLCN": "Speech, Language and Communication Needs",
    "SEND.ASC": "Autistic Spectrum Condition",
    "SEND.SEMH": "Social, Emotional and Mental Health difficulties",
    "SEND.VI": "Visual Impairment",
    "SEND.HI": "Hearing Impairment",
    "SEND.MSI": "Multi Sensory Impairment",
    "SEND.PD": "Physical Disability",
    "EAL": "English as an additional language",
    "free-school-meals": "Recipient of free school meals (FSM)",
    "NEET": "Not in Education, Employment, or Training",
    "non-accidental-injury": "Observed non-accidental injury",
    "persistent-school-absences": "Reported persistent absences from school",
    "pupil-premium": "Eligible for Pupil Premium",
    "religion": "Religious affiliation",
    "temp-accomodation": "Living in temporary accomodation",
    "accommodation-status": "Housing and living arrangements of the individual",
    "accommodation-status.owner-occupier": "Owner occupier or shared ownership scheme",
    "accommodation-status.tenant-social": "Tenant: Local authority or other social housing provider",
    "accommodation-status.tenant-private": "Tenant: Private landlord",
    "accommodation-status.settled-mainstream-family": "Settled mainstream housing with family or friends",
    "accommodation-status.supported-accommodation": "Supported accommodation, supported lodgings or supported group home",
    "accommodation-status.shared-lives": "Shared Lives scheme",
    "accommodation-status.approved-premises": "Approved premises for offenders released from prison or under probation supervision",
    "accommodation-status.sheltered-housing": "Sheltered housing, extra care housing or other sheltered housing",
    "accommodation-status.mobile-accommodation": "Mobile accommodation for Gypsy, Roma and Traveller communities",
    "accommodation-status.rough-sleeping": "Rough sleeper or squatting",
    "accommodation-status.night-shelter": "Night shelter, emergency hostel or direct access hostel",
    "accommodation-status.refuge": "Refuge",
    "accommodation-status.temp-accommodation-council": "Placed in temporary accommodation by the council (inc. homelessness resettlement)",
    "accommodation-status.staying-family-friends-short": "Staying with family or friends as a short term guest",
    "accommodation-status.healthcare-facility": "Acute hospital or long term healthcare residential facility",
    "accommodation-status.registered-care-home": "Registered care home",
    "accommodation-status.registered-nursing-home": "Registered nursing home",
    "accommodation-status.prison-detention": "Prison, young offenders institution or detention centre",
    "accommodation-status.other-temporary": "Other temporary accommodation",
    "accommodation-status.unknown": "Unknown",
    "asd-diagnosis": "Observed Autism Spectrum Disorder (ASD) diagnosis",
    "client-funding-status": "Funding status of the client for social care services",
    "client-funding-status.fully-client-funded": "Fully client funded",
    "client-funding-status.joint-funded": "Joint client and social care funded",
    "client-funding-status.fully-social-care-funded": "Fully social care funded",
    "client-funding-status.unknown": "Unknown",
    "dbs-check": "Recorded Disclosure and Barring Service (DBS) check",
    "dementia-diagnosis": "Observed dementia diagnosis",
    "employment-status": "Employment status of the individual",
    "employment-status.paid-under-16h": "Paid: Less than 16 hours a week",
    "employment-status.paid-16h-plus": "Paid: 16 or more hours a week",
    "employment-status.paid-hours-unknown": "Paid: Hours per week unknown",
    "employment-status.seeking-work": "Not in paid employment: Seeking work",
    "employment-status.not-seeking-or-retired": "Not in paid employment: Not actively seeking work or retired",
    "employment-status.voluntary-only": "Not in paid employment: Voluntary work only",
    "employment-status.unknown": "Unknown",
    "has-unpaid-carer": "Has an unpaid carer",
    "hearing-impairment": "Observed hearing impairment status",
    "hearing-impairment.deaf-with-speech": "Deaf with speech",
    "hearing-impairment.deaf-without-speech": "Deaf without speech",
    "hearing-impairment.hard-of-hearing": "Hard of hearing",
    "hearing-impairment.no-impairment": "No hearing impairment",
    "hearing-impairment.severity-unknown": "Hearing impairment: Severity unknown",
    "hearing-impairment.unknown": "Unknown",
    "support-reason": "Primary reason for requiring adult social care support",
    "support-reason.physical-access-mobility": "Physical support: Access and mobility only",
    "support-reason.physical-personal-care": "Physical Support: Personal care support",
    "support-reason.sensory-visual": "Sensory Support: Support for visual impairment",
    "support-reason.sensory-hearing": "Sensory Support: Support for hearing impairment",
    "support-reason.sensory-dual": "Sensory Support: Support for dual impairment",
    "support-reason.memory-cognition": "Support with memory and cognition",
    "support-reason.learning-disability": "Learning disability support",
    "support-reason.mental-health": "Mental health support",
    "support-reason.substance-misuse": "Social support: Substance misuse support",
    "support-reason.asylum-seeker": "Social Support: Asylum seeker support",
    "support-reason.social-isolation-other": "Social support: Support for social isolation or other reason",
    "support-reason.unpaid-carer": "Social support: Support to unpaid carer",
    "support-reason.unknown": "Unknown",
    "visual-impairment": "Observed visual impairment status",
    "visual-impairment.blind": "Blind/severely sight impaired",
    "visual-impairment.partially-sighted": "Partial sight/sight impaired",
    "visual-impairment.no-impairment": "No visual impairment",
    "visual-impairment.severity-unknown": "Visual impairment - severity unknown",
    "visual-impairment.unknown": "Unknown",
}

_MEASUREMENT_CODES: Final = {
    "Attendance": "Pupil attendance % at school",
    "Authorised Absences": "Pupil % absences from school that are authorised",
    "Unauthorised Absences": "Pupil % absences from school that are unauthorised",
    "caring-hours-per-week": "Total hours spent caring per week",
}


@dataclass(frozen=True)
class Vocabulary:
    """One Coding vocabulary: its system URI, its known codes, and how strictly codes are checked."""

    name: str
    kind: Literal["unsettled", "external", "open"]
    system: str | None
    source: str
    codes: Mapping[str, str] = field(default_factory=dict)
    patterns: tuple[str, ...] = ()

    def accepts(self, code: str) -> bool:
        """Whether ``code`` is valid in this vocabulary (system aside)."""
        if not code or code != code.strip():
            return False
        if self.kind == "unsettled":
            return code in self.codes or any(re.fullmatch(p, code) for p in self.patterns)
        if self.patterns:
            return any(re.fullmatch(p, code) for p in self.patterns)
        return True


def _pub02(name: str, anchor: str, codes: Mapping[str, str], patterns: tuple[str, ...] = ()) -> Vocabulary:
    return Vocabulary(name, "unsettled", f"{_PUB02}#{anchor}", f"PUB02 {anchor}", codes, patterns)


VOCABULARIES: Final[Mapping[str, Vocabulary]] = {
    v.name: v
    for v in (
        _pub02("OrganisationCode", "organisation-code-vocabulary", _ORGANISATION_CODES),
        _pub02("ServiceCode", "service-code-vocabulary", _SERVICE_CODES),
        _pub02("EpisodeCode", "episode-code-vocabulary", _EPISODE_CODES),
        _pub02("EventCode", "event-code-vocabulary", _EVENT_CODES),
        _pub02(
            "ObservationType",
            "observation-type-vocabulary",
            _OBSERVATION_CODES,
            # EAL.<ISO 639-1 two-letter code>, religion.<HL7 v3 ReligiousAffiliation numeric code>
            (r"EAL\.[a-z]{2}", r"religion\.[0-9]{4}"),
        ),
        _pub02("MeasurementType", "measurement-type-vocabulary", _MEASUREMENT_CODES),
        Vocabulary(
            "InvolvementCode",
            "external",
            "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
            "PUB02 involvement-code-vocabulary (HL7 v3 ParticipationType)",
            _INVOLVEMENT_CODES,
            (r"[A-Z]+",),
        ),
        Vocabulary(
            "TimingAbbreviation",
            "external",
            "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation",
            "PUB02 frequency-code-vocabulary (HL7 v3 GTSAbbreviation)",
            {"BID": "twice a day", "TID": "three times a day", "QID": "four times a day"},
            (r"[A-Z0-9]+",),
        ),
        Vocabulary(
            "SharingPurpose", "open", None, "Information governance: SharingPurpose (not yet published)"
        ),
        Vocabulary(
            "PolicyAction",
            "open",
            None,
            "Information governance: ODRL actions (e.g. http://www.w3.org/ns/odrl/2/ read)",
        ),
        Vocabulary("PolicyDuty", "open", None, "Information governance: ODRL duties"),
        Vocabulary("SecurityMeasure", "open", None, "Information governance: security measures"),
        Vocabulary("LegalCompliance", "open", None, "Information governance: legal compliance"),
        Vocabulary("DecisionRationale", "open", None, "MAIS Exchange: reasons a policy decision was made"),
    )
}

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")


def coding_problem(vocabulary: str, code: str, system: str) -> str | None:
    """What is wrong with a coding of ``vocabulary`` (never quoting the code), or ``None``."""
    vocab = VOCABULARIES.get(vocabulary)
    if vocab is None:
        return f"vocabulary {vocabulary} is not in the catalogue"
    if vocab.system is not None and system != vocab.system:
        return f"system must be {vocab.system} for vocabulary {vocabulary}"
    if vocab.system is None and not _URI.fullmatch(system):
        return f"system must be an absolute URI for vocabulary {vocabulary}"
    if not vocab.accepts(code):
        return f"code is not in vocabulary {vocabulary}"
    return None
