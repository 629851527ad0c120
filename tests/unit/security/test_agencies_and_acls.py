"""Agency definitions and the least-privilege ACL rules computed from them (no broker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.errors import ConfigError
from exchange.security import (
    AclRule,
    AgencyBook,
    AgencyDefinition,
    RegistryUsers,
    hash_password,
    monitor_rules,
    verify_password,
)
from exchange.topics import shared_topics
from services.enquiry import EnquirySettings


def test_an_agency_owns_its_prefix_and_reads_only_granted_entity_topics() -> None:
    csc = AgencyDefinition(id="csc", reads=("hospital.person", "school"))
    assert csc.acl_rules() == [
        AclRule("topic", "mais.csc.", "prefix", ("Read", "Write", "Describe")),
        AclRule("group", "mais.csc.", "prefix", ("Read",)),
        AclRule("transactionalId", "mais.csc.", "prefix", ("Write", "Describe")),
        AclRule("topic", "mais.hospital.person.v1", "literal", ("Read", "Describe")),
        AclRule("topic", "mais.school.episode.v1", "literal", ("Read", "Describe")),
        AclRule("topic", "mais.school.event.v1", "literal", ("Read", "Describe")),
        AclRule("topic", "mais.school.person.v1", "literal", ("Read", "Describe")),
        AclRule("topic", "mais.audit.v1", "literal", ("Read", "Write", "Describe")),
        AclRule("topic", "mais.enquiry.request.v1", "literal", ("Read", "Write", "Describe")),
        AclRule("topic", "mais.enquiry.decision.v1", "literal", ("Read", "Write", "Describe")),
        AclRule("topic", "mais.enquiry.response.v1", "literal", ("Read", "Write", "Describe")),
    ]
    assert all("Create" not in rule.operations for rule in csc.acl_rules())


def test_an_agency_kept_out_of_enquiries_still_appends_to_the_audit_log() -> None:
    rules = AgencyDefinition(id="csc", enquiries=False).acl_rules()
    shared = {r.name: r.operations for r in rules if r.pattern == "literal"}
    assert shared == {"mais.audit.v1": ("Read", "Write", "Describe")}
    # nothing outside the agency's own prefix is granted by prefix, so no other agency's
    # group or transactional id (mais.hospital.enquiry.responder ...) is ever usable
    assert {r.name for r in rules if r.pattern == "prefix"} == {"mais.csc."}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reads", ("hospital.dlq",), "only entity topics"),
        ("reads", ("hospital.progress",), "only entity topics"),
        ("reads", ("Hospital",), "not an agency id"),
        ("reads", ("csc.person",), "reads its own topics"),
        ("publishes", ("people",), "unknown entities"),
        ("id", "admin", "reserved"),
        ("id", "mais-monitor", "reserved"),
        ("id", "CSC", "invalid agency id"),
    ],
)
def test_invalid_definitions_are_refused_with_the_reason(field: str, value: object, message: str) -> None:
    fields: dict[str, object] = {"id": "csc", field: value}
    with pytest.raises(ValueError, match=message):
        AgencyDefinition.model_validate(fields)


def test_the_monitor_describes_everything_and_reads_only_ops_topics() -> None:
    rules = monitor_rules(["csc", "hospital"])
    assert {(r.resource, r.name, r.pattern, r.operations) for r in rules} == {
        ("topic", "mais.", "prefix", ("Describe",)),
        ("group", "mais.", "prefix", ("Describe",)),
        ("topic", "mais.csc.ops.v1", "literal", ("Read", "Write")),
        ("topic", "mais.hospital.ops.v1", "literal", ("Read", "Write")),
    }


def test_strimzi_form_of_a_rule() -> None:
    rule = AclRule("transactionalId", "mais.csc.", "prefix", ("Write", "Describe"))
    assert rule.to_strimzi() == {
        "resource": {"type": "transactionalId", "name": "mais.csc.", "patternType": "prefix"},
        "operations": ["Write", "Describe"],
        "host": "*",
    }


def test_the_agencies_file_round_trips_and_names_the_bad_table(tmp_path: Path) -> None:
    path = tmp_path / "agencies.toml"
    book = AgencyBook(path)
    book.put(AgencyDefinition(id="csc", name='Children\'s "social" care', reads=("hospital.person",)))
    book.put(AgencyDefinition(id="hospital", publishes=("person", "episode"), enquiries=False))
    book.save()
    assert path.read_text().count("enquiries = false") == 1  # the default is not written
    again = AgencyBook.load(path)
    assert again.agencies == book.agencies
    assert not again.get("hospital").enquiries and again.get("csc").enquiries
    path.write_text(path.read_text() + '\n[agencies.police]\nreads = ["hospital.dlq"]\n')
    with pytest.raises(ConfigError, match=r"\[agencies.police\] reads"):
        AgencyBook.load(path)
    with pytest.raises(ConfigError, match="no agency definitions"):
        AgencyBook.load(tmp_path / "missing.toml")


def test_agency_topics_are_compacted_where_each_event_carries_the_whole_record() -> None:
    topics = {t.name: t for t in AgencyDefinition(id="csc").topics()}
    assert set(topics) == {
        "mais.csc.person.v1",
        "mais.csc.episode.v1",
        "mais.csc.event.v1",
        "mais.csc.dlq.v1",
        "mais.csc.progress.v1",
        "mais.csc.ops.v1",
        "mais.csc.review.v1",  # the responder's review queue (latest state per request)
    }
    assert topics["mais.csc.person.v1"].config == {"cleanup.policy": "compact"}
    assert topics["mais.csc.review.v1"].config == {"cleanup.policy": "compact"}
    assert EnquirySettings().review_topic("csc") == "mais.csc.review.v1"
    assert "mais.csc.review.v1" not in {t.name for t in AgencyDefinition(id="csc", enquiries=False).topics()}
    assert topics["mais.csc.event.v1"].config == {}


def test_shared_topics_are_created_by_the_operator_and_the_audit_log_is_kept_forever() -> None:
    shared = {t.name: t for t in shared_topics()}
    assert set(shared) == {
        "mais.enquiry.request.v1",
        "mais.enquiry.decision.v1",
        "mais.enquiry.response.v1",
        "mais.audit.v1",
    }
    assert shared["mais.audit.v1"].config == {"retention.ms": "-1", "retention.bytes": "-1"}
    assert "cleanup.policy" not in shared["mais.audit.v1"].config  # never compacted


def test_passwords_are_stored_as_salted_hashes(tmp_path: Path) -> None:
    encoded = hash_password("s3cret")
    assert "s3cret" not in encoded and encoded != hash_password("s3cret")
    assert verify_password("s3cret", encoded) and not verify_password("other", encoded)
    users = RegistryUsers(tmp_path / "u.json")
    users.set("csc", "reader", "s3cret")
    users.save()
    assert "s3cret" not in users.path.read_text()
    assert users.path.stat().st_mode & 0o077 == 0
    loaded = RegistryUsers.load(users.path)
    assert loaded.authenticate("csc", "s3cret") is not None
    assert loaded.authenticate("csc", "nope") is None
    assert loaded.authenticate("ghost", "s3cret") is None
