"""Who may do what on a secured exchange: the authorisation matrix, on a real secured broker.

Modelled on Kafka's own end-to-end authorisation tests (``EndToEndAuthorizationTest``,
``SaslScramSslEndToEndAuthorizationTest``): each principal is held to exactly its ACLs, every
refusal carries the authorisation error Kafka defines for the resource, and a refused write
leaves nothing behind. Agencies get their ACLs the way ``mais agency add`` gives them.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import runtime_people_adapter as people
from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]
from pydantic import SecretStr
from secure_exchange import SecureExchange

from exchange.audit import AuditSettings, generate_key_pair
from exchange.codec import AvroCodec
from exchange.purposes import purpose_from_text
from exchange.registry_client import RegistryForbiddenError, RegistrySettings, SchemaRegistryClient
from exchange.runtime import KafkaSource, LoadedAdapter, RunOptions, StopSignal, run_adapter
from exchange.schemas import from_json
from exchange.security import CertificateAuthority, SecurityAdmin
from exchange.settings import KafkaSettings
from exchange.topics import AUDIT_TOPIC, TopicSpec, dlq_topic, entity_topic
from services.agency import AgencyCredentials
from services.enquiry import (
    EnquiryClient,
    EnquirySettings,
    Responder,
    ResponderConfig,
    build_request,
    default_finder,
    load_contact,
    load_policies,
    make_codec,
)
from services.enquiry._policies import load_policy_file
from services.enquiry._settings import responder_id

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@dataclass
class Matrix:
    exchange: SecureExchange
    alpha: AgencyCredentials  # may read beta's person topic
    beta: AgencyCredentials
    gamma: AgencyCredentials  # shares nothing with alpha


@pytest.fixture(scope="module")
def matrix(secure_exchange: SecureExchange) -> Matrix:
    ids = {stem: secure_exchange.new_agency_id(stem) for stem in ("alpha", "beta", "gamma")}
    beta = secure_exchange.add_agency(ids["beta"])
    gamma = secure_exchange.add_agency(ids["gamma"])
    alpha = secure_exchange.add_agency(ids["alpha"], reads=[f"{ids['beta']}.person"])
    return Matrix(secure_exchange, alpha, beta, gamma)


def _conf(settings: KafkaSettings, errors: list[KafkaError] | None = None, **extra: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {**settings.confluent_config(), "log_level": 0, **extra}
    if errors is not None:
        conf["error_cb"] = errors.append
    return conf


def _end_offsets(operator: KafkaSettings, topic: str) -> int:
    admin = AdminClient(_conf(operator))
    partitions = admin.list_topics(topic, timeout=30).topics[topic].partitions
    futures = admin.list_offsets({TopicPartition(topic, p): OffsetSpec.latest() for p in partitions})
    return sum(f.result(30).offset for f in futures.values())


def _produce(settings: KafkaSettings, topic: str, value: bytes, **extra: Any) -> KafkaError | None:
    """Produce one message; the delivery error (None when it was written)."""
    outcome: list[KafkaError | None] = []
    producer = Producer(_conf(settings, **{"message.timeout.ms": 15000, **extra}))
    producer.produce(topic, value, b"k", on_delivery=lambda err, _msg: outcome.append(err))
    producer.flush(30)
    assert outcome, "no delivery report"
    return outcome[0]


def _first_error(consumer: Consumer, timeout_s: float = 20.0) -> tuple[KafkaError | None, bytes | None]:
    """Poll until a message or an error arrives: (error, value)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            continue
        error = message.error()
        if error is not None and error.code() == KafkaError._PARTITION_EOF:
            continue
        return error, (None if error is not None else message.value())
    return None, None


def test_an_agency_produces_to_and_consumes_from_its_own_topics(matrix: Matrix) -> None:
    alpha = matrix.alpha
    topic = entity_topic(alpha.agency, "event")
    assert _produce(alpha.kafka, topic, b"own-1") is None
    consumer = Consumer(
        _conf(alpha.kafka, **{"group.id": f"mais.{alpha.agency}.reader", "auto.offset.reset": "earliest"})
    )
    try:
        consumer.subscribe([topic])
        error, value = _first_error(consumer, 60)
        assert error is None
        assert value == b"own-1"
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()


def test_an_agency_reads_a_granted_topic_and_nothing_else_of_another_agency(matrix: Matrix) -> None:
    alpha, beta, gamma = matrix.alpha, matrix.beta, matrix.gamma
    granted = entity_topic(beta.agency, "person")
    assert _produce(beta.kafka, granted, b"shared") is None
    group = {"group.id": f"mais.{alpha.agency}.granted", "auto.offset.reset": "earliest"}
    for topic, allowed in (
        (granted, True),
        (entity_topic(beta.agency, "episode"), False),  # same agency, topic not granted
        (dlq_topic(beta.agency), False),  # a DLQ holds original records: never grantable
        (entity_topic(gamma.agency, "person"), False),
    ):
        consumer = Consumer(_conf(alpha.kafka, **group))
        try:
            consumer.subscribe([topic])
            error, value = _first_error(consumer, 60)
        finally:
            consumer.close()
        if allowed:
            assert (error, value) == (None, b"shared")
        else:
            assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, topic
            assert value is None


def test_an_agency_cannot_even_see_topics_it_may_not_describe(matrix: Matrix) -> None:
    alpha, beta, gamma = matrix.alpha, matrix.beta, matrix.gamma
    visible = set(AdminClient(_conf(alpha.kafka)).list_topics(timeout=30).topics)
    assert entity_topic(alpha.agency, "person") in visible
    assert entity_topic(beta.agency, "person") in visible  # granted
    hidden = {
        entity_topic(beta.agency, "episode"),
        dlq_topic(beta.agency),
        entity_topic(gamma.agency, "person"),
    }
    assert not hidden & visible
    assert "_schemas" not in visible and "__consumer_offsets" not in visible


def test_writing_to_another_agencys_topic_is_refused_and_writes_nothing(matrix: Matrix) -> None:
    alpha, beta = matrix.alpha, matrix.beta
    operator = matrix.exchange.stack.operator
    for topic in (entity_topic(beta.agency, "person"), dlq_topic(beta.agency)):
        before = _end_offsets(operator, topic)
        error = _produce(alpha.kafka, topic, b"forged")
        assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        assert _end_offsets(operator, topic) == before


def test_joining_another_agencys_group_is_refused(matrix: Matrix) -> None:
    alpha, beta = matrix.alpha, matrix.beta
    own_topic = entity_topic(alpha.agency, "person")
    consumer = Consumer(_conf(alpha.kafka, **{"group.id": f"mais.{beta.agency}.adapter.hl7v2.x"}))
    try:
        consumer.subscribe([own_topic])
        error, _ = _first_error(consumer, 30)
    finally:
        consumer.close()
    assert error is not None and error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED


def test_using_another_agencys_transactional_id_is_refused_and_writes_nothing(matrix: Matrix) -> None:
    alpha, beta = matrix.alpha, matrix.beta
    own_topic = entity_topic(alpha.agency, "episode")
    before = _end_offsets(matrix.exchange.stack.operator, own_topic)
    producer = Producer(_conf(alpha.kafka, **{"transactional.id": f"mais.{beta.agency}.adapter.x.0"}))
    with pytest.raises(KafkaException) as refused:
        producer.init_transactions(30)
    assert refused.value.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    assert _end_offsets(matrix.exchange.stack.operator, own_topic) == before


def _connect_errors(conf: dict[str, Any]) -> tuple[bool, list[KafkaError]]:
    """Try a metadata request; (whether it succeeded, the client's errors)."""
    errors: list[KafkaError] = []
    admin = AdminClient({**conf, "error_cb": errors.append, "log_level": 0})
    try:
        admin.list_topics(timeout=10)
        return True, errors
    except KafkaException as exc:
        errors.append(exc.args[0])
    deadline = time.monotonic() + 10  # error callbacks are served by poll
    while time.monotonic() < deadline and len({e.code() for e in errors}) < 2:
        admin.poll(0.5)
    return False, errors


def test_a_wrong_password_is_refused(matrix: Matrix) -> None:
    wrong = matrix.alpha.kafka.model_copy(update={"sasl_password": SecretStr("not-the-password")})
    ok, errors = _connect_errors(_conf(wrong))
    assert not ok
    assert KafkaError._AUTHENTICATION in {e.code() for e in errors}
    assert _produce(wrong, entity_topic(matrix.alpha.agency, "event"), b"x", **{"message.timeout.ms": 5000})


def test_a_client_trusting_another_ca_is_refused(matrix: Matrix, tmp_path: Path) -> None:
    other_ca = CertificateAuthority(tmp_path / "other-ca", name="Someone else's CA").ensure()
    settings = matrix.alpha.kafka.model_copy(update={"ssl_ca_location": other_ca.cert_file})
    ok, errors = _connect_errors(_conf(settings))
    assert not ok
    assert KafkaError._SSL in {e.code() for e in errors}


def test_a_plaintext_client_is_refused(matrix: Matrix) -> None:
    plaintext = KafkaSettings(bootstrap_servers=matrix.alpha.kafka.bootstrap_servers)
    topic = entity_topic(matrix.alpha.agency, "event")
    before = _end_offsets(matrix.exchange.stack.operator, topic)
    ok, _ = _connect_errors(_conf(plaintext))
    assert not ok
    assert _produce(plaintext, topic, b"plain", **{"message.timeout.ms": 5000}) is not None
    assert _end_offsets(matrix.exchange.stack.operator, topic) == before


def test_the_monitor_computes_lag_but_cannot_fetch_a_record(matrix: Matrix) -> None:
    alpha = matrix.alpha
    monitor = matrix.exchange.stack.monitor
    topic = entity_topic(alpha.agency, "person")
    for i in range(5):
        assert _produce(alpha.kafka, topic, f"record-{i}".encode()) is None
    group = f"mais.{alpha.agency}.subscriber"
    consumer = Consumer(_conf(alpha.kafka, **{"group.id": group, "auto.offset.reset": "earliest"}))
    try:
        consumer.subscribe([topic])
        seen = 0
        while seen < 2:
            error, value = _first_error(consumer, 60)
            assert error is None and value is not None
            seen += 1
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()

    admin = AdminClient(_conf(monitor))
    committed = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(30)
    positions = {tp.partition: tp.offset for tp in committed.topic_partitions if tp.topic == topic}
    ends = admin.list_offsets({TopicPartition(topic, p): OffsetSpec.latest() for p in positions})
    lag = sum(ends[TopicPartition(topic, p)].result(30).offset - max(o, 0) for p, o in positions.items())
    assert sum(max(o, 0) for o in positions.values()) == 2
    assert lag == 3

    reader = Consumer(_conf(monitor, **{"group.id": monitor.scratch_group("peek")}))
    try:
        reader.assign([TopicPartition(topic, p, 0) for p in positions])
        error, value = _first_error(reader, 30)
    finally:
        reader.close()
    assert value is None
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_the_registry_lets_agencies_read_and_only_the_operator_register(matrix: Matrix) -> None:
    settings = matrix.alpha.registry
    assert settings.password is not None and settings.ca_location is not None
    verify = ssl.create_default_context(cafile=str(settings.ca_location))
    auth = (matrix.alpha.agency, settings.password.get_secret_value())
    subjects = httpx.get(f"{settings.url}/subjects", auth=auth, verify=verify, timeout=10).json()
    beta_subject = f"{entity_topic(matrix.beta.agency, 'person')}-mais.v1.PersonRecorded"
    assert beta_subject in subjects  # agencies read every subject
    alpha = SchemaRegistryClient.from_settings(settings)
    with pytest.raises(RegistryForbiddenError, match="not allowed to register"):
        alpha.register(f"{entity_topic(matrix.alpha.agency, 'person')}-mais.test.New", '{"type": "string"}')
    wrong = RegistrySettings(
        url=matrix.alpha.registry.url,
        username=matrix.alpha.agency,
        password=SecretStr("wrong"),
        ca_location=matrix.alpha.registry.ca_location,
    )
    with pytest.raises(RegistryForbiddenError, match="401"):
        SchemaRegistryClient.from_settings(wrong).get_compatibility()
    plain_url = matrix.alpha.registry.url.replace("https://", "http://")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{plain_url}/subjects", timeout=5)


@pytest.fixture
def alpha_inbox(matrix: Matrix) -> Iterator[str]:
    """A raw input topic of alpha's (the operator creates topics; agencies cannot)."""
    topic = f"mais.{matrix.alpha.agency}.inbox.v1"
    SecurityAdmin(matrix.exchange.stack.operator).ensure_topics([TopicSpec(topic, 3)])
    yield topic


def test_an_agency_runs_its_exactly_once_adapter_with_only_its_acls(matrix: Matrix, alpha_inbox: str) -> None:
    alpha = matrix.alpha
    person_topic = entity_topic(alpha.agency, "person")
    operator_registry = SchemaRegistryClient.from_settings(matrix.exchange.stack.operator_registry)
    operator_registry.register(f"{person_topic}-{people.SCHEMA_NAME}", people.schemas[people.SCHEMA_NAME])
    options = RunOptions(
        adapter=LoadedAdapter(people.adapter, people.schemas.__getitem__),
        agency=alpha.agency,
        source=KafkaSource(alpha_inbox),
        kafka=alpha.kafka,
        registry=SchemaRegistryClient.from_settings(alpha.registry),
        instance_id="matrix",
        batch_size=50,
    )
    stop = StopSignal()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            run_adapter(options, stop)
        except BaseException as exc:  # reported below
            failure.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        producer = Producer(_conf(alpha.kafka, **{"enable.idempotence": True}))
        lines = [f"P{i:05d},Given,Family,2010-01-{(i % 28) + 1:02d},999{i:07d}".encode() for i in range(200)]
        lines[7] = b"P00007,Given,Family,07/01/2010,9990000007"  # poison: the strict adapter rejects it
        for line in lines:
            producer.produce(alpha_inbox, line, line.split(b",")[0])
        assert producer.flush(30) == 0
        keys: list[bytes] = []
        reader = Consumer(
            _conf(
                alpha.kafka,
                **{"group.id": alpha.kafka.scratch_group("check"), "isolation.level": "read_committed"},
            )
        )
        reader.assign([TopicPartition(person_topic, p, 0) for p in range(3)])
        deadline = time.monotonic() + 90
        own = f"{people.PEOPLE_SYSTEM}|".encode()
        while sum(k.startswith(own) for k in keys) < 199 and time.monotonic() < deadline:
            message = reader.poll(0.5)
            if message is not None and message.error() is None:
                keys.append(bytes(message.key()))
        time.sleep(2)  # nothing more may arrive
        keys += [bytes(m.key()) for m in reader.consume(1000, 2) if m.error() is None]
        reader.close()
    finally:
        stop.stop()
        thread.join(60)
    assert not failure, failure
    # other tests of this module write b"k" keys to the same topic; the adapter's are its own
    ids = [key.decode().rsplit("|", 1)[1] for key in keys if key.startswith(own)]
    assert len(ids) == 199 and len(set(ids)) == 199
    assert "P00007" not in ids
    assert _end_offsets(matrix.exchange.stack.operator, dlq_topic(alpha.agency)) >= 1


def _agency_codec(credentials: AgencyCredentials) -> AvroCodec:
    """The enquiry codec as the enquiry commands make it, from the agency's registry settings."""
    return make_codec(credentials.registry)


def _audit_settings(keys: Path, writer: str) -> AuditSettings:
    generate_key_pair(keys, writer)
    return AuditSettings(
        signing_key_file=keys / f"{writer}.key", hash_secret=SecretStr("matrix-secret-0123456789abcdef")
    )


def _write_policy(folder: Path, parties: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    system = EnquirySettings().organisation_system
    policy = {
        "uri": "https://matrix.example.org/policies/s47.json",
        "identifier": {"system": "https://matrix.example.org/Id/sharing-policy", "value": "s47/1"},
        "name": "Matrix s47 policy",
        "contact": "ig@matrix.example.org",
        "party": [{"name": p, "catalogueID": [{"system": system, "value": p}]} for p in parties],
        "data": ["contact", "involvement"],
        "purpose": ["children-act-1989-s47"],
        "startDate": "2026-01-01",
        "endDate": "2030-12-31",
        "permittedUse": ["odrl:read"],
    }
    path = folder / "s47.json"
    path.write_text(json.dumps(policy))
    return path


def test_an_agency_answers_enquiries_with_only_its_acls_and_not_under_another_agencys_ids(
    matrix: Matrix, tmp_path: Path
) -> None:
    alpha, beta = matrix.alpha, matrix.beta  # beta asks, alpha answers
    operator = matrix.exchange.stack.operator
    enquiry = EnquirySettings()
    policy = _write_policy(tmp_path / "policies", [beta.agency, alpha.agency])
    contact = tmp_path / "contact.toml"
    contact.write_text(
        '[contact]\norganisation = "Alpha safeguarding"\nteam = "Front door"\n'
        'telephone = ["0113 496 0000"]\nemail = ["safeguarding@example.org"]\n'
    )
    config = ResponderConfig(
        agency=alpha.agency,
        policies=load_policies(tmp_path / "policies"),
        contact=load_contact(contact),
        kafka=alpha.kafka,  # alpha's principal: nothing but the ACLs `mais agency add` gave it
        codec=_agency_codec(alpha),
        finder=default_finder(alpha.agency),
        audit=_audit_settings(tmp_path / "keys", f"enquiry.responder.{alpha.agency}"),
    )
    audit_before = _end_offsets(operator, AUDIT_TOPIC)
    stop = StopSignal()
    failure: list[BaseException] = []

    def answer() -> None:
        try:
            Responder(config, stop).run()
        except BaseException as exc:  # reported below
            failure.append(exc)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    requester = f"enquiry.requester.{beta.agency}"
    client = EnquiryClient(
        beta.kafka,
        _agency_codec(beta),
        agency=beta.agency,
        writer_name=requester,
        audit=_audit_settings(tmp_path / "keys", requester),
    )
    try:
        s47 = purpose_from_text("children-act-1989-s47")
        assert s47 is not None
        query = from_json(
            "mais.v1.Person",
            {
                "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
                "name": [{"givenName": ["Kai"], "familyName": ["Thornbury"]}],
                "dateOfBirth": {"date": "2015-05-01"},
            },
        )
        request = build_request(enquiry.organisation(beta.agency), query, s47, [load_policy_file(policy)])
        client.send(request)
        answers = list(client.gather(request, 90, {alpha.agency}))
    finally:
        client.close()
        stop.stop()
        thread.join(60)
    assert not failure, failure
    assert [a.responder for a in answers if a.kind == "response"] == [alpha.agency]
    # the answer went out in the responder's transaction under mais.<alpha>.enquiry.responder,
    # with its audit entries and its consumer offsets in the group of the same name
    group = responder_id(alpha.agency)
    admin = AdminClient(_conf(operator))
    committed = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(30)
    assert any(tp.topic == enquiry.request_topic and tp.offset > 0 for tp in committed.topic_partitions)
    assert _end_offsets(operator, AUDIT_TOPIC) > audit_before

    # the same principal may not pose as beta's responder: neither its group nor its transactions
    consumer = Consumer(_conf(alpha.kafka, **{"group.id": responder_id(beta.agency)}))
    try:
        consumer.subscribe([enquiry.request_topic])
        error, value = _first_error(consumer, 30)
    finally:
        consumer.close()
    assert value is None
    assert error is not None and error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED
    response_end = _end_offsets(operator, enquiry.response_topic)
    producer = Producer(_conf(alpha.kafka, **{"transactional.id": responder_id(beta.agency)}))
    with pytest.raises(KafkaException) as refused:
        producer.init_transactions(30)
    assert refused.value.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    assert _end_offsets(operator, enquiry.response_topic) == response_end
