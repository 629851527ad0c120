"""Enquiries without copying data: policies, the decision point, responders and requesters.

Public API (the gateway and tests use exactly these):

* :func:`load_policies`, :class:`CompiledPolicy`, :class:`PolicyFile` - sharing policies as data.
* :class:`PolicyDecisionPoint`, :func:`question_from_request`, :class:`Decision`, :data:`RULES`.
* :class:`Responder`, :class:`ResponderConfig` - one agency's responder (``mais enquiry respond``).
* :class:`EnquiryClient`, :func:`build_request`, :class:`Answer` - asking (``mais enquiry ask``).
* :class:`PersonFinder`, :class:`Found`, :func:`default_finder` - "is this person among ours?".
* :class:`EnquirySettings`, :func:`load_contact`, :class:`ContactFile`, :func:`make_codec`.

See ``docs/enquiry.md``.
"""

from services.enquiry._answer import ContactFile, load_contact
from services.enquiry._client import REQUEST_SYSTEM, Answer, EnquiryClient, build_request
from services.enquiry._finder import default_finder
from services.enquiry._kafka import ensure_topics, make_codec
from services.enquiry._metrics import EnquiryMetrics
from services.enquiry._pdp import RULES, Decision, PolicyDecisionPoint, Question, question_from_request
from services.enquiry._policies import CompiledPolicy, PolicyFile, load_policies, policy_to_avro
from services.enquiry._records import Found, PersonFinder
from services.enquiry._responder import Responder, ResponderConfig
from services.enquiry._settings import ORGANISATION_SYSTEM, EnquirySettings

__all__ = [
    "ORGANISATION_SYSTEM",
    "REQUEST_SYSTEM",
    "RULES",
    "Answer",
    "CompiledPolicy",
    "ContactFile",
    "Decision",
    "EnquiryClient",
    "EnquiryMetrics",
    "EnquirySettings",
    "Found",
    "PersonFinder",
    "PolicyDecisionPoint",
    "PolicyFile",
    "Question",
    "Responder",
    "ResponderConfig",
    "build_request",
    "default_finder",
    "ensure_topics",
    "load_contact",
    "load_policies",
    "make_codec",
    "policy_to_avro",
    "question_from_request",
]
