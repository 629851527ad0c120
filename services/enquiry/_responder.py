"""The responder of one agency: decide, look up, answer - exactly once.

It consumes ``mais.enquiry.request.v1`` and its own review queue in one consumer group and handles
each batch in one Kafka transaction that also carries the consumer offsets: the decision
(``mais.enquiry.decision.v1``), the answer (``mais.enquiry.response.v1``), review-queue records and
the audit entries commit together or not at all. A restarted responder (same agency, so same
``transactional.id``: ``mais.<agency>.enquiry.responder``, like its consumer group) fences its
killed predecessor, whose open transaction is aborted; it reads its audit chain's head back from
the topic and carries on from the committed offsets, so every request is answered exactly once
and the chain stays unbroken. Every group and transactional id it uses is under the agency's
prefix, so the agency's own ACLs cover it.

The agency's own people and involvements are read from its own topics at start-up and followed
between batches (:class:`~services.enquiry._records.OwnRecords`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from exchange.audit import AuditSettings, AuditStep, AuditWriter, ensure_audit_topic, find_head
from exchange.codec import AvroCodec
from exchange.envelope import Envelope, build_headers
from exchange.errors import DataError, MaisError, TransientError
from exchange.runtime import Reject, StopSignal, TransactionalWriter, dlq_headers
from exchange.schemas import schema_json
from exchange.settings import KafkaSettings
from exchange.topics import dlq_topic, entity_topic
from services.enquiry._answer import ContactFile, decision_value, response_value
from services.enquiry._kafka import TopicReader, decode_value, ensure_topics, event_type
from services.enquiry._metrics import EnquiryMetrics
from services.enquiry._pdp import Decision, PolicyDecisionPoint, question_from_request
from services.enquiry._policies import CompiledPolicy
from services.enquiry._records import OwnRecords, PersonFinder
from services.enquiry._review import ReviewItem, now_text
from services.enquiry._settings import EnquirySettings, reader_group, responder_id

__all__ = ["Responder", "ResponderConfig"]

_log = structlog.get_logger("mais.enquiry.responder")  # lazy: the logging set up at run time applies
_DECISION = "mais.v1.SharingDecision"
_RESPONSE = "mais.v1.InformationResponse"


@dataclass(frozen=True)
class ResponderConfig:
    """Everything one agency's responder needs, checked before it starts."""

    agency: str
    policies: list[CompiledPolicy]
    contact: ContactFile
    kafka: KafkaSettings
    codec: AvroCodec
    finder: PersonFinder
    enquiry: EnquirySettings = field(default_factory=EnquirySettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    batch_size: int = 100
    poll_timeout_s: float = 0.2


class Responder:
    """Runs until ``stop`` is requested."""

    def __init__(
        self, config: ResponderConfig, stop: StopSignal, metrics: EnquiryMetrics | None = None
    ) -> None:
        self.config = config
        self.stop = stop
        self.agency = config.agency
        self.organisation = config.enquiry.organisation(config.agency)
        self.writer_name = f"enquiry.responder.{config.agency}"
        self.review_topic = config.enquiry.review_topic(config.agency)
        self.metrics = metrics or EnquiryMetrics(config.agency)
        self.pdp = PolicyDecisionPoint(
            (self.organisation["system"], self.organisation["value"]), config.policies
        )
        self.records = OwnRecords(config.finder)
        self._decision_schema = schema_json(_DECISION)
        self._response_schema = schema_json(_RESPONSE)
        self._answered: set[str] = set()
        self._rebalanced = False
        self.audit: AuditWriter | None = None

    @property
    def _chain(self) -> AuditWriter:
        if self.audit is None:
            raise MaisError("the responder has not started", hint="call run()")
        return self.audit

    # -- start-up ---------------------------------------------------------------------------
    def _prepare(self) -> tuple[TransactionalWriter, Consumer, TopicReader]:
        config = self.config
        topics = {
            config.enquiry.request_topic: {},
            config.enquiry.response_topic: {},
            config.enquiry.decision_topic: {},
            self.review_topic: {"cleanup.policy": "compact"},
            entity_topic(self.agency, "person"): {"cleanup.policy": "compact"},
            entity_topic(self.agency, "episode"): {"cleanup.policy": "compact"},
        }
        ensure_topics(config.kafka, topics)
        ensure_audit_topic(config.kafka, config.audit.topic)
        writer = TransactionalWriter(config.kafka, responder_id(self.agency))
        writer.init()  # fences a killed predecessor and aborts its open transaction
        head = find_head(
            config.kafka,
            self.writer_name,
            self._decode_mapping,
            config.audit.topic,
            group_id=reader_group(self.agency, "audit-reader"),
        )
        self.audit = AuditWriter(
            config.codec,
            writer=self.writer_name,
            organisation=self.organisation,
            signer=config.audit.signer(),
            hasher=config.audit.hasher(self.agency),
            head=head,
            topic=config.audit.topic,
            checkpoint_every=config.audit.checkpoint_every,
        )
        own = TopicReader(
            config.kafka,
            [entity_topic(self.agency, "person"), entity_topic(self.agency, "episode")],
            group_id=reader_group(self.agency, "own-records"),
        )
        own.catch_up(self._apply_own)
        consumer = Consumer(
            {
                **config.kafka.confluent_config(),
                "group.id": responder_id(self.agency),
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 20,
                # static membership: a restarted responder takes its partitions straight back
                # instead of waiting for its killed predecessor's session to expire
                "group.instance.id": f"responder-{self.agency}",
                "session.timeout.ms": 10_000,
            }
        )
        consumer.subscribe(
            [config.enquiry.request_topic, self.review_topic],
            on_assign=self._on_rebalance,
            on_revoke=self._on_rebalance,
        )
        _log.info(
            "responder ready", agency=self.agency, records=len(self.records), count=len(config.policies)
        )
        return writer, consumer, own

    def _on_rebalance(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._rebalanced = True
        _log.info("partitions changed", agency=self.agency, count=len(partitions))

    def _decode_mapping(self, value: bytes) -> Mapping[str, Any]:
        decoded = self.config.codec.decode(value).value
        return decoded if isinstance(decoded, Mapping) else {}

    def _apply_own(self, message: Message) -> None:
        try:
            key = message.key()
            text_key = key.decode() if isinstance(key, bytes) else str(key)
            self.records.apply(event_type(message), text_key, decode_value(self.config.codec, message))
        except DataError as exc:
            _log.warning(
                "own record not usable", topic=message.topic(), offset=message.offset(), error=exc.message
            )

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        writer, consumer, own = self._prepare()
        try:
            while not self.stop.requested():
                own.poll(self._apply_own)
                # the group metadata from before polling: if a rebalance happens meanwhile the
                # coordinator refuses the commit rather than take offsets of moved partitions
                metadata = consumer.consumer_group_metadata()
                self._rebalanced = False
                first = consumer.poll(self.config.poll_timeout_s)
                if first is None:
                    continue
                batch = [
                    m for m in [first, *consumer.consume(self.config.batch_size - 1, timeout=0)] if _usable(m)
                ]
                if self._rebalanced:  # read across a rebalance: read again under the new assignment
                    self._seek_back(consumer, batch)
                    continue
                self._process(writer, consumer, batch, metadata)
            self._final_checkpoint(writer)
        finally:
            with contextlib.suppress(MaisError):
                writer.abort()
            consumer.close()
            own.close()
            writer.flush()
        _log.info("responder stopped", agency=self.agency)

    def _process(
        self, writer: TransactionalWriter, consumer: Consumer, batch: list[Message], metadata: Any
    ) -> None:
        if not batch:
            return
        head, answered = self._chain.head, set(self._answered)
        outcomes: list[str] = []
        try:
            writer.begin()
            for message in batch:
                outcomes += self._handle(writer, message)
            if self._chain.checkpoint_due:
                self._send_audit_checkpoint(writer)
            offsets: dict[tuple[str, int], int] = {}
            for m in batch:
                offsets[(str(m.topic()), int(m.partition() or 0))] = int(m.offset() or 0) + 1
            writer.commit([TopicPartition(t, p, o) for (t, p), o in offsets.items()], metadata)
        except (TransientError, MaisError) as error:
            _log.warning(
                "transaction aborted; batch will be read again", error=getattr(error, "message", str(error))
            )
            with contextlib.suppress(MaisError):
                writer.abort()
            self._chain.rewind(head)
            self._answered = answered
            self._seek_back(consumer, batch)  # from each partition's first message of the batch
            self.stop.wait(0.5)
            return
        for outcome in outcomes:
            self.metrics.decided(outcome)

    @staticmethod
    def _seek_back(consumer: Consumer, batch: list[Message]) -> None:
        first: dict[tuple[str, int], int] = {}
        for message in batch:
            first.setdefault(
                (str(message.topic()), int(message.partition() or 0)), int(message.offset() or 0)
            )
        for (topic, partition), offset in first.items():
            # a partition no longer ours is skipped: its next owner starts from the committed offset
            with contextlib.suppress(Exception):
                consumer.seek(TopicPartition(topic, partition, offset))

    def _final_checkpoint(self, writer: TransactionalWriter) -> None:
        if self.audit is None:
            return
        with contextlib.suppress(MaisError):
            writer.begin()
            self._send_audit_checkpoint(writer)
            writer.commit()

    def _send_audit_checkpoint(self, writer: TransactionalWriter) -> None:
        message = self._chain.checkpoint()
        if message is not None:
            writer.produce(message.topic, message.key, message.value, list(message.headers), tag="audit")

    def _handle(self, writer: TransactionalWriter, message: Message) -> list[str]:
        topic = str(message.topic())
        tag = f"{topic}/{message.partition()}/{message.offset()}"
        try:
            if topic == self.review_topic:
                return self._handle_review(writer, ReviewItem.decode(bytes(message.value() or b"")), tag)
            request = decode_value(self.config.codec, message)
            return self._handle_request(writer, request, bytes(message.value() or b""), tag)
        except (DataError, KeyError, ValueError, TypeError) as exc:
            reason = exc.message if isinstance(exc, DataError) else f"{type(exc).__name__} in the request"
            reject = Reject("read", type(exc).__name__, reason, bytes(message.value() or b""), tag)
            headers = dlq_headers(
                reject,
                adapter="enquiry-responder",
                agency=self.agency,
                source=topic,
                original_headers=None,
                kafka_coordinates=(topic, int(message.partition() or 0), int(message.offset() or 0)),
            )
            writer.produce(dlq_topic(self.agency), message.key(), message.value(), headers, tag)
            self.metrics.rejected()
            _log.warning(
                "request not usable; sent to the DLQ", topic=topic, offset=message.offset(), error=reason
            )
            return []

    def _handle_request(
        self, writer: TransactionalWriter, request: Mapping[str, Any], raw: bytes, tag: str
    ) -> list[str]:
        requester = request["requesterIdentifier"]
        if (requester["system"], requester["value"]) == (
            self.organisation["system"],
            self.organisation["value"],
        ):
            return []  # our own question: not ours to answer
        request_id = dict(request["identifier"])
        subjects = list(request["subjectIdentifier"])
        asserted = [dict(p["identifier"]) for p in request["sharingPolicy"]]
        question = question_from_request(request)
        decision = self.pdp.decide(question)
        self._audit(writer, AuditStep("REQUEST_RECEIVED", request_id, subjects, requester, asserted), tag)
        self._audit(writer, self._decision_step(request, decision), tag)
        now = datetime.now(UTC)
        self._produce(
            writer,
            self.config.enquiry.decision_topic,
            schema_name=_DECISION,
            value=decision_value(request, decision, self.organisation, now),
            request_id=request_id,
            tag=tag,
        )
        if decision.outcome == "REVIEW":
            item = ReviewItem(
                request_id=str(request_id["value"]),
                state="pending",
                requester=str(requester["value"]),
                purpose=str(request["assertedPurpose"]["code"]),
                policies=tuple(str(p["value"]) for p in asserted),
                rules=decision.rules,
                received=now_text(),
                request=raw,
            )
            writer.produce(self.review_topic, item.request_id.encode(), item.encode(), [], tag)
            return ["REVIEW"]
        self._answer(writer, request, decision.outcome, decision.deciding_policy, tag)
        return [decision.outcome]

    def _handle_review(self, writer: TransactionalWriter, item: ReviewItem, tag: str) -> list[str]:
        if item.state not in ("approved", "denied") or item.request_id in self._answered:
            if item.state == "answered":
                self._answered.add(item.request_id)
            return []
        request = self._decode_mapping(item.request)
        outcome = "REVIEW" if item.state == "approved" else "DENY"
        rule = "review-approved" if item.state == "approved" else "review-denied"
        step = AuditStep(
            "DECISION_MADE",
            dict(request["identifier"]),
            list(request["subjectIdentifier"]),
            request["requesterIdentifier"],
            [dict(p["identifier"]) for p in request["sharingPolicy"]],
            decision=outcome,
            rules=(rule,),
        )
        self._audit(writer, step, tag)
        policy = self._policy_for(request) if item.state == "approved" else None
        self._answer(writer, request, outcome, policy, tag)
        answered = ReviewItem(**{**_fields(item), "state": "answered"})
        writer.produce(self.review_topic, item.request_id.encode(), answered.encode(), [], tag)
        self._answered.add(item.request_id)
        return [f"reviewed-{item.state}"]

    def _policy_for(self, request: Mapping[str, Any]) -> CompiledPolicy | None:
        uris = {str(p["uri"]) for p in request["sharingPolicy"]}
        return next((p for p in self.config.policies if p.uri in uris), None)

    def _answer(
        self,
        writer: TransactionalWriter,
        request: Mapping[str, Any],
        outcome: str,
        policy: CompiledPolicy | None,
        tag: str,
    ) -> None:
        question = question_from_request(request)
        value, _ = response_value(
            request,
            question,
            outcome=outcome,
            policy=policy,
            records=self.records,
            responder=self.organisation,
            contact=self.config.contact,
            now=datetime.now(UTC),
        )
        request_id = dict(request["identifier"])
        self._produce(
            writer,
            self.config.enquiry.response_topic,
            schema_name=_RESPONSE,
            value=value,
            request_id=request_id,
            tag=tag,
        )
        step = AuditStep(
            "RESPONSE_SENT",
            request_id,
            list(request["subjectIdentifier"]),
            request["requesterIdentifier"],
            [dict(p["identifier"]) for p in request["sharingPolicy"]],
            decision=outcome,
            match=bool(value["match"]),
        )
        self._audit(writer, step, tag)

    def _decision_step(self, request: Mapping[str, Any], decision: Decision) -> AuditStep:
        return AuditStep(
            "DECISION_MADE",
            dict(request["identifier"]),
            list(request["subjectIdentifier"]),
            request["requesterIdentifier"],
            [{"system": s, "value": v} for s, v in decision.policies],
            decision=decision.outcome,
            rules=decision.rules,
        )

    def _audit(self, writer: TransactionalWriter, step: AuditStep, tag: str) -> None:
        message = self._chain.append(step)
        writer.produce(message.topic, message.key, message.value, list(message.headers), tag)

    def _produce(
        self,
        writer: TransactionalWriter,
        topic: str,
        *,
        schema_name: str,
        value: Mapping[str, Any],
        request_id: Mapping[str, Any],
        tag: str,
    ) -> None:
        schema = self._decision_schema if schema_name == _DECISION else self._response_schema
        envelope = Envelope(
            id=f"{self.agency}:{schema_name.rsplit('.', 1)[1]}:{request_id['value']}"[:256],
            source=f"urn:mais:enquiry:responder:{self.agency}",
            type=schema_name,
            time=datetime.now(UTC),
            correlation_id=_token(str(request_id["value"])),
        )
        framed = self.config.codec.encode(topic, schema, value)
        writer.produce(topic, str(request_id["value"]).encode(), framed, build_headers(envelope), tag)


def _token(value: str) -> str | None:
    return (
        value if value and len(value) <= 256 and all(c.isalnum() or c in "._:/|#@+-" for c in value) else None
    )


def _fields(item: ReviewItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in ReviewItem.__dataclass_fields__}


def _usable(message: Message) -> bool:
    error = message.error()
    if error is None:
        return True
    if error.fatal():
        raise MaisError(f"the consumer failed fatally: {error.name()}", hint="restart the responder")
    if error.code() != KafkaError._PARTITION_EOF:
        _log.warning("consumer error", error_class=error.name())
    return False
