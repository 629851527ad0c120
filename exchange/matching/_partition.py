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
    parent: dict[str, str] = {}
    nhs: dict[str, set[str]] = {}
    registers: dict[str, dict[tuple[str, str], str]] = {}
    for key in keys:
        parent[key] = key
        number, register = identity(key)
        nhs[key] = {number} if number else set()
        registers[key] = {register[:2]: register[2]} if register else {}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def join(a: str, b: str, agency_merge: bool) -> None:
        ra, rb = root(a), root(b)
        if ra == rb or len(nhs[ra] | nhs[rb]) > 1:
            return
        reg_a, reg_b = registers[ra], registers[rb]
        if not agency_merge and any(reg_a.get(k, v) != v for k, v in reg_b.items()):
            return
        if (len(reg_a), ra) < (len(reg_b), rb):
            ra, rb, reg_a, reg_b = rb, ra, reg_b, reg_a
        parent[rb] = ra
        nhs[ra] |= nhs.pop(rb)
        for k, v in reg_b.items():
            reg_a.setdefault(k, v)
        del registers[rb]

    for a, b in sorted(tuple(sorted(pair)) for pair in merges):
        if a in parent and b in parent:
            join(a, b, agency_merge=True)
    ordered = sorted((-w, min(a, b), max(a, b)) for w, a, b in links)
    for _, a, b in ordered:
        if a in parent and b in parent:
            join(a, b, agency_merge=False)
    groups: dict[str, list[str]] = {}
    for key in parent:
        groups.setdefault(root(key), []).append(key)
    return sorted(sorted(group) for group in groups.values())
