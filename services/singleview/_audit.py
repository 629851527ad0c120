"""Audit entries for every search and every view of a person, written to ``mais.audit.v1``.

Each is a standard ``AuditEntry``: the publisher is this SingleView, the ``agent`` the signed-in
user, ``subjectIdentifier`` the record keys shown, ``requestIdentifier`` the search the view came
from, ``recordedAt`` when. The purpose the user gave travels in the envelope's
``ce_sharingpurpose`` (AuditEntry has no purpose field yet). A search is logged as
``REQUEST_RECEIVED`` (the SingleView received a request for information) and a view as
``RESPONSE_SENT`` (it disclosed the records to the user). The write is acknowledged by the broker
before the page is sent: when the audit cannot be written, nothing is shown.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from confluent_kafka import Producer

from exchange.codec import AvroCodec
from exchange.envelope import Envelope, build_headers
from exchange.errors import TransientError
from exchange.schemas import schema_json
from exchange.settings import KafkaSettings

__all__ = ["USER_SYSTEM", "VIEW_SYSTEM", "AuditLog"]

USER_SYSTEM = "https://mais-exchange.org/Id/singleview-user"
VIEW_SYSTEM = "https://mais-exchange.org/Id/singleview-search"
_ORG_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
_SCHEMA = "mais.v1.AuditEntry"


class AuditLog:
    """Writes AuditEntry events synchronously (one producer, shared by request threads)."""

    def __init__(self, kafka: KafkaSettings, codec: AvroCodec, topic: str, organisation: str) -> None:
        self._producer = Producer({**kafka.confluent_config(), "enable.idempotence": True, "linger.ms": 0})
        self._codec = codec
        self._topic = topic
        self._organisation = organisation
        self._lock = threading.Lock()

    def record(
        self, *, activity: str, user: str, purpose: str, search_id: str, record_keys: list[str]
    ) -> None:
        now = datetime.now(UTC)
        entry = {
            "publisher": {"system": _ORG_SYSTEM, "value": self._organisation},
            "recordedAt": now,
            "subjectIdentifier": [_identifier(key) for key in sorted(record_keys)],
            "activity": activity,
            "agent": {"system": f"{USER_SYSTEM}/{self._organisation}", "value": user},
            "requestIdentifier": {"system": VIEW_SYSTEM, "value": search_id},
            "sharingPolicyIdentifier": [],
            "decision": None,
            "match": None,
            "counterparty": {"system": _ORG_SYSTEM, "value": self._organisation},
        }
        value = self._codec.encode(self._topic, schema_json(_SCHEMA), entry)
        envelope = Envelope(
            id=str(uuid.uuid4()), source=f"/mais/singleview/{self._organisation}", type=_SCHEMA, time=now,
            sharing_purpose=purpose,
        )  # fmt: skip
        failures: list[str] = []

        def delivered(error: object, _message: object) -> None:
            if error is not None:
                failures.append(str(error))

        with self._lock:
            self._producer.produce(
                self._topic,
                value=value,
                key=search_id.encode(),
                headers=cast(Any, build_headers(envelope)),
                on_delivery=delivered,
            )
            pending = self._producer.flush(15)
        if pending or failures:
            raise TransientError("the audit entry was not acknowledged by Kafka; nothing was shown")

    def close(self) -> None:
        self._producer.flush(10)


def _identifier(key: str) -> dict[str, str]:
    system, _, value = key.rpartition("|")
    return {"system": system, "value": value}
