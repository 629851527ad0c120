"""Asking: publish an InformationRequest and gather the answers (``mais enquiry ask``, the gateway).

:class:`EnquiryClient` publishes requests for one requesting agency, logging ``REQUEST_SENT`` and
each ``RESPONSE_RECEIVED`` in its own audit chain, and follows the decision and response topics
on a background thread, handing every answer to whoever waits for that request id
(:meth:`EnquiryClient.gather`). A responder that decided REVIEW shows up as a pending decision
until a person approves or denies and the answer arrives.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import structlog
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from exchange.audit import AuditSettings, AuditStep, AuditWriter, ensure_audit_topic, find_head
from exchange.codec import AvroCodec
from exchange.envelope import Envelope, build_headers
from exchange.errors import DataError, TransientError
from exchange.identifiers import MAIS_ID_BASE
from exchange.purposes import Purpose, canonical_data
from exchange.schemas import schema_json
from exchange.settings import KafkaSettings
from services.enquiry._kafka import ensure_topics
from services.enquiry._policies import PolicyFile, policy_to_avro
from services.enquiry._settings import EnquirySettings, reader_group

__all__ = ["REQUEST_SYSTEM", "Answer", "EnquiryClient", "build_request"]

REQUEST_SYSTEM = MAIS_ID_BASE + "information-request"
_REQUEST = "mais.v1.InformationRequest"
_log = structlog.get_logger("mais.enquiry.client")  # lazy: the logging set up at run time applies


@dataclass(frozen=True, slots=True)
class Answer:
    """A responder's decision or response for one request."""

    kind: str  # "decision" | "response"
    responder: str  # catalogue id value
    value: Mapping[str, Any]

    @property
    def decision(self) -> str:
        return str(self.value["decision"])


def build_request(
    requester: Mapping[str, str],
    query: Mapping[str, Any],
    purpose: Purpose,
    policies: Sequence[PolicyFile],
    *,
    data: Sequence[str] = (),
    reason: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An ``InformationRequest`` value (the person ``query`` is a standard Person value)."""
    moment = now or datetime.now(UTC)
    identifier = {"system": REQUEST_SYSTEM, "value": f"{requester['value']}-{uuid.uuid4().hex}"}
    subjects = [dict(i) for i in query.get("identifier") or ()] or [identifier]
    return {
        "publisher": dict(requester),
        "recordedAt": moment,
        "subjectIdentifier": subjects,
        "identifier": identifier,
        "dateStamp": moment,
        "requesterIdentifier": dict(requester),
        "requestedData": {"query": dict(query), "data": [canonical_data(d) for d in data]},
        "assertedPurpose": purpose.coding(),
        "sharingPolicy": [policy_to_avro(p) for p in policies],
        "reason": reason,
    }


class EnquiryClient:
    """Publishes one agency's requests and collects the answers."""

    def __init__(
        self,
        kafka: KafkaSettings,
        codec: AvroCodec,
        *,
        agency: str,
        writer_name: str,
        enquiry: EnquirySettings | None = None,
        audit: AuditSettings | None = None,
    ) -> None:
        self.kafka = kafka
        self.codec = codec
        self.agency = agency
        self.enquiry = enquiry or EnquirySettings()
        self.audit_settings = audit or AuditSettings()
        self.organisation = self.enquiry.organisation(agency)
        self._schema = schema_json(_REQUEST)
        ensure_topics(
            kafka,
            {
                self.enquiry.request_topic: {},
                self.enquiry.response_topic: {},
                self.enquiry.decision_topic: {},
            },
        )
        ensure_audit_topic(kafka, self.audit_settings.topic)
        self.audit = AuditWriter(
            codec,
            writer=writer_name,
            organisation=self.organisation,
            signer=self.audit_settings.signer(),
            hasher=self.audit_settings.hasher(agency),
            head=find_head(
                kafka,
                writer_name,
                lambda v: codec.decode(v).value,
                self.audit_settings.topic,
                group_id=reader_group(agency, "audit-reader"),
            ),
            topic=self.audit_settings.topic,
            checkpoint_every=self.audit_settings.checkpoint_every,
        )
        self._audit_lock = threading.Lock()
        self._producer = Producer(
            {**kafka.confluent_config(), "enable.idempotence": True, "acks": "all", "linger.ms": 0}
        )
        self._waiters: dict[str, queue.Queue[Answer]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="enquiry-answers", daemon=True)
        self._thread.start()
        if not self._ready.wait(60):
            raise TransientError("could not start following the answer topics", hint="check the broker")

    # -- publishing ---------------------------------------------------------------------------
    def send(self, request: Mapping[str, Any]) -> str:
        """Publish ``request`` (and log REQUEST_SENT); return its id. Answers are collected from now on."""
        request_id = str(request["identifier"]["value"])
        with self._lock:
            self._waiters[request_id] = queue.Queue()
        framed = self.codec.encode(self.enquiry.request_topic, self._schema, request)
        envelope = Envelope(
            id=request_id,
            source=f"urn:mais:enquiry:requester:{self.agency}",
            type=_REQUEST,
            time=datetime.now(UTC),
            correlation_id=request_id,
        )
        self._producer.produce(
            self.enquiry.request_topic,
            framed,
            request_id.encode(),
            headers=cast(Any, build_headers(envelope)),
        )
        step = AuditStep(
            "REQUEST_SENT",
            dict(request["identifier"]),
            list(request["subjectIdentifier"]),
            policies=[dict(p["identifier"]) for p in request["sharingPolicy"]],
        )
        self._log_audit(step)
        if self._producer.flush(30) > 0:
            raise TransientError(
                "the request was not acknowledged by the broker in time", hint="check the broker"
            )
        return request_id

    def log_step(self, step: AuditStep, *, wait: bool = True) -> None:
        """Log a step of the caller's own (e.g. the gateway's receipt, answer or refusal).

        ``wait`` waits for the broker's acknowledgement; without it the idempotent producer delivers
        in the background (and :meth:`close` flushes), so an answer is not held up by its audit entry.
        """
        self._log_audit(step)
        if wait:
            self._producer.flush(30)
        else:
            self._producer.poll(0)

    def _log_audit(self, step: AuditStep) -> None:
        with self._audit_lock:
            messages = [self.audit.append(step)]
            if self.audit.checkpoint_due:
                checkpoint = self.audit.checkpoint()
                messages += [checkpoint] if checkpoint is not None else []
            for message in messages:
                self._producer.produce(
                    message.topic, message.value, message.key, headers=cast(Any, message.headers)
                )

    # -- gathering ---------------------------------------------------------------------------
    def gather(
        self,
        request: Mapping[str, Any],
        deadline_s: float,
        expected: set[str] | None = None,
        *,
        keep: bool = False,
    ) -> Iterator[Answer]:
        """Yield answers to ``request`` as they arrive, until ``deadline_s`` or every ``expected``
        responder has answered (a response, or a REVIEW decision still pending). Logs each response.
        ``keep`` goes on collecting afterwards (for a later ``gather``: answers after a review)."""
        request_id = str(request["identifier"]["value"])
        with self._lock:
            inbox = self._waiters.setdefault(request_id, queue.Queue())
        end = time.monotonic() + deadline_s
        settled: set[str] = set()
        try:
            while expected is None or not expected <= settled:
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return
                try:
                    answer = inbox.get(timeout=remaining)
                except queue.Empty:
                    return
                if answer.kind == "response":
                    settled.add(answer.responder)
                    self._log_audit(
                        AuditStep(
                            "RESPONSE_RECEIVED",
                            dict(request["identifier"]),
                            list(request["subjectIdentifier"]),
                            counterparty=dict(answer.value["responderIdentifier"]),
                            policies=[dict(p["identifier"]) for p in request["sharingPolicy"]],
                            decision=answer.decision,
                            match=bool(answer.value["match"]),
                        )
                    )
                elif answer.decision == "REVIEW":
                    settled.add(answer.responder)
                yield answer
        finally:
            self._producer.poll(0)  # RESPONSE_RECEIVED entries go out in the background; close() flushes
            if not keep:
                with self._lock:
                    self._waiters.pop(request_id, None)

    def _follow(self) -> None:
        consumer = Consumer(
            {
                **self.kafka.confluent_config(),
                "group.id": reader_group(self.agency, "requester"),  # assigned; never commits
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": 10,
            }
        )
        try:
            partitions = []
            for topic in (self.enquiry.response_topic, self.enquiry.decision_topic):
                metadata = consumer.list_topics(topic, timeout=30).topics[topic]
                for p in metadata.partitions:
                    _, high = consumer.get_watermark_offsets(
                        TopicPartition(topic, p), timeout=30, cached=False
                    )
                    partitions.append(TopicPartition(topic, p, high))
            consumer.assign(partitions)
            self._ready.set()
            while not self._stopping.is_set():
                message = consumer.poll(0.1)
                if message is None or message.error() is not None:
                    if message is not None and message.error().code() != KafkaError._PARTITION_EOF:  # type: ignore[union-attr]
                        _log.warning("answer consumer error", error_class=message.error().name())  # type: ignore[union-attr]
                    continue
                key = message.key()
                request_id = key.decode() if isinstance(key, bytes) else str(key)
                with self._lock:
                    inbox = self._waiters.get(request_id)
                if inbox is None:
                    continue
                try:
                    value = self.codec.decode(bytes(message.value() or b"")).value
                except DataError as exc:
                    _log.warning(
                        "answer not readable",
                        topic=message.topic(),
                        offset=message.offset(),
                        error=exc.message,
                    )
                    continue
                kind = "response" if message.topic() == self.enquiry.response_topic else "decision"
                inbox.put(Answer(kind, str(value["publisher"]["value"]), value))
        finally:
            consumer.close()

    def close(self) -> None:
        """Stop following, checkpoint the audit chain and flush."""
        self._stopping.set()
        self._thread.join(10)
        with self._audit_lock:
            checkpoint = self.audit.checkpoint()
            if checkpoint is not None:
                self._producer.produce(
                    checkpoint.topic, checkpoint.value, checkpoint.key, headers=cast(Any, checkpoint.headers)
                )
        self._producer.flush(30)
