"""The authenticated sender is recorded with what it sent: ce_authtype/ce_authid and DLQ headers."""

from __future__ import annotations

import datetime as dt

import pytest
import runtime_people_adapter as people

from exchange.adapter import AdapterContext
from exchange.codec import AvroCodec
from exchange.envelope import Envelope, build_headers, parse_headers
from exchange.errors import DataError
from exchange.ingress import Sender
from exchange.runtime import Identity, Pipeline
from exchange.runtime._dlq import DlqEntry, dlq_headers
from exchange.testing import InMemorySchemaRegistry

GOOD = b"p1,Amelia,Okonkwo,2014-03-09,9434765919"
POISON = b"p2,Jack,Smith,09/03/2014,9434765920"
NOW = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)


def _pipeline() -> Pipeline:
    return Pipeline(
        people.adapter,
        AdapterContext(agency="leeds-cc", organisation_id="L1"),
        AvroCodec(InMemorySchemaRegistry()),
        people.schemas.__getitem__,
        Identity(agency="leeds-cc", adapter="people_csv", source="http:127.0.0.1:8443"),
    )


def test_events_of_an_authenticated_sender_name_it_in_the_envelope() -> None:
    by_certificate = _pipeline().process_unit(GOOD, "http/k1", sender=Sender("gp-emis", "certificate"))
    by_token = _pipeline().process_unit(GOOD, "http/k1", sender=Sender("pas", "token"))
    anonymous = _pipeline().process_unit(GOOD, "http/k1")
    headers = dict(by_certificate.outputs[0].headers)
    assert (headers["ce_authtype"], headers["ce_authid"]) == (b"service_account", b"gp-emis")
    envelope = parse_headers(by_token.outputs[0].headers)
    assert (envelope.auth_type, envelope.auth_id) == ("api_key", "pas")
    assert not {"ce_authtype", "ce_authid"} & {name for name, _ in anonymous.outputs[0].headers}
    # the sender says who pushed the record, not what it is: the event id does not change
    assert parse_headers(anonymous.outputs[0].headers).id == envelope.id


def test_auth_context_attributes_follow_the_cloudevents_extension() -> None:
    envelope = Envelope(
        id="1", source="/s", type="t", time=NOW, auth_type="service_account", auth_id="gp-emis"
    )
    assert parse_headers(build_headers(envelope)) == envelope
    with pytest.raises(ValueError, match="auth_type"):
        Envelope(id="1", source="/s", type="t", time=NOW, auth_type="doctor")
    with pytest.raises(ValueError, match="needs 'auth_type'"):
        Envelope(id="1", source="/s", type="t", time=NOW, auth_id="gp-emis")
    with pytest.raises(ValueError, match="short token"):
        Envelope(id="1", source="/s", type="t", time=NOW, auth_type="api_key", auth_id="Dr A Smith")
    bad = [*build_headers(Envelope(id="1", source="/s", type="t", time=NOW)), ("ce_authtype", b"wizard")]
    with pytest.raises(DataError, match="invalid CloudEvents headers"):
        parse_headers(bad)


def test_rejects_of_an_authenticated_sender_carry_it_in_the_dlq_headers() -> None:
    result = _pipeline().process_unit(POISON, "http/gp-emis:k2", sender=Sender("gp-emis", "token"))
    (reject,) = result.rejects
    headers = dlq_headers(
        reject,
        adapter="people_csv",
        agency="leeds-cc",
        source="http:127.0.0.1:8443",
        original_headers=None,
        sender=("gp-emis", "token"),
        now=NOW,
    )
    assert ("mais_dlq_sender", b"gp-emis") in headers
    assert ("mais_dlq_sender_auth", b"token") in headers
    entry = DlqEntry.from_message(0, 7, None, reject.data, headers)
    assert (entry.sender, entry.sender_auth) == ("gp-emis", "token")
    unsent = dlq_headers(reject, adapter="a", agency="leeds-cc", source="dir:/x", original_headers=None)
    assert not [name for name, _ in unsent if name.startswith("mais_dlq_sender")]
    assert DlqEntry.from_message(0, 8, None, reject.data, unsent).sender is None
