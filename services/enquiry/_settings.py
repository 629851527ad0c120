"""Settings of the enquiry service (``MAIS_ENQUIRY_*``): topic names and the organisation id system."""

from __future__ import annotations

import uuid

from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange.identifiers import MAIS_ID_BASE
from exchange.topics import (
    ENQUIRY_DECISION_TOPIC,
    ENQUIRY_REQUEST_TOPIC,
    ENQUIRY_RESPONSE_TOPIC,
    client_id,
    validate_agency,
)

__all__ = ["ORGANISATION_SYSTEM", "EnquirySettings", "reader_group", "responder_id"]

ORGANISATION_SYSTEM = MAIS_ID_BASE + "organisation"
"""Default system of agencies' catalogue ids (until the API catalogue publishes one)."""


class EnquirySettings(BaseSettings):
    """Where requests, decisions and answers travel."""

    model_config = SettingsConfigDict(env_prefix="MAIS_ENQUIRY_", extra="forbid", frozen=True)

    request_topic: str = ENQUIRY_REQUEST_TOPIC
    response_topic: str = ENQUIRY_RESPONSE_TOPIC
    decision_topic: str = ENQUIRY_DECISION_TOPIC
    organisation_system: str = ORGANISATION_SYSTEM
    """System URI of the catalogue ids that name agencies in requests and policies."""

    def organisation(self, agency: str) -> dict[str, str]:
        """The catalogue identifier of ``agency``."""
        return {"system": self.organisation_system, "value": validate_agency(agency)}

    def review_topic(self, agency: str) -> str:
        """The agency's own queue of requests waiting for a person: ``mais.<agency>.review.v1``."""
        return f"mais.{validate_agency(agency)}.review.v1"


def responder_id(agency: str) -> str:
    """Consumer group and transactional id of ``agency``'s responder: ``mais.<agency>.enquiry.responder``.

    The same on every start, so that a restarted responder fences its predecessor and carries on
    from the group's committed offsets; under the agency's prefix, so its own ACLs cover it.
    """
    return client_id(agency, "enquiry", "responder")


def reader_group(agency: str, purpose: str) -> str:
    """A fresh consumer group of ``agency`` for a reader that never commits (``purpose`` names it):
    ``mais.<agency>.enquiry.<purpose>.<random hex>``."""
    return client_id(agency, "enquiry", purpose, uuid.uuid4().hex)
