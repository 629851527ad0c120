"""The enquiry service's consumer groups and transactional ids are the agency's own (no broker)."""

from __future__ import annotations

from exchange.security import AgencyDefinition
from services.enquiry._settings import reader_group, responder_id


def _covered_by_own_acls(agency: str, resource: str, name: str) -> bool:
    return any(
        rule.resource == resource and rule.pattern == "prefix" and name.startswith(rule.name)
        for rule in AgencyDefinition(id=agency).acl_rules()
    )


def test_the_responder_keeps_one_id_under_its_agencys_prefix_across_restarts() -> None:
    assert responder_id("northvale") == "mais.northvale.enquiry.responder"
    assert responder_id("northvale") == responder_id("northvale")  # fences its predecessor
    assert _covered_by_own_acls("northvale", "group", responder_id("northvale"))
    assert _covered_by_own_acls("northvale", "transactionalId", responder_id("northvale"))
    assert not _covered_by_own_acls("southshire", "transactionalId", responder_id("northvale"))


def test_readers_get_a_fresh_group_of_their_own_agency() -> None:
    first, second = reader_group("southshire", "requester"), reader_group("southshire", "requester")
    assert first != second
    assert first.startswith("mais.southshire.enquiry.requester.")
    for purpose in ("requester", "review-reader", "audit-reader", "own-records"):
        assert _covered_by_own_acls("southshire", "group", reader_group("southshire", purpose))
