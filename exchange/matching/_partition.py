"""Links into persons under the hard rules: one deterministic procedure for batch and online.

Agency merges first, then links from the strongest down (ties by record keys); each joins two
groups unless the joined group would hold two different valid NHS numbers or two records of one
agency's register. The result depends only on the records and their links, never on the order
they arrived in, which is what lets the online clustering agree with batch linking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["Identity", "partition"]

Identity = Callable[[str], tuple[str | None, tuple[str, str, str] | None]]
"""record key -> (valid NHS number or None, (source, register system, record value) or None)."""


def partition(
    keys: Iterable[str],
    links: Iterable[tuple[float, str, str]],
    identity: Identity,
    merges: Iterable[tuple[str, str]] = (),
) -> list[list[str]]:
    """Group ``keys`` by ``links`` (weight, key, key) and agency ``merges`` under the hard rules.

    Groups come out sorted, each with its keys sorted.
    """
    parent = {key: key for key in keys}
    # What a group holds, kept for groups that have been joined or tested: its valid NHS number
    # (a group never holds two) and its register entries. A root without an entry is a record
    # that has never been joined, so its own identity is its group's.
    held: dict[str, tuple[str | None, dict[tuple[str, str], str]]] = {}

    def facts(key: str) -> tuple[str | None, dict[tuple[str, str], str]]:
        found = held.get(key)
        if found is None:
            number, register = identity(key)
            found = held[key] = (number or None, {register[:2]: register[2]} if register else {})
        return found

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def join(a: str, b: str, agency_merge: bool) -> None:
        ra, rb = root(a), root(b)
        if ra == rb:
            return
        (nhs_a, reg_a), (nhs_b, reg_b) = facts(ra), facts(rb)
        if nhs_a and nhs_b and nhs_a != nhs_b:
            return
        if not agency_merge and reg_a:
            for k, v in reg_b.items():
                if reg_a.get(k, v) != v:  # two records of one register
                    return
        if (len(reg_a), ra) < (len(reg_b), rb):
            ra, rb, reg_a, reg_b = rb, ra, reg_b, reg_a
        parent[rb] = ra
        for k, v in reg_b.items():
            reg_a.setdefault(k, v)
        held[ra] = (nhs_a or nhs_b, reg_a)
        del held[rb]

    for a, b in sorted(tuple(sorted(pair)) for pair in merges):
        if a in parent and b in parent:
            join(a, b, agency_merge=True)
    ordered = sorted((-w, min(a, b), max(a, b)) for w, a, b in links)
    for _, a, b in ordered:
        if a in parent and b in parent:
            join(a, b, agency_merge=False)
    groups: dict[str, list[str]] = {}
    for key in sorted(parent):  # so each group's keys come sorted
        groups.setdefault(root(key), []).append(key)
    return sorted(groups.values())
