"""DLQ entries that do not fit in a Kafka message: stubs, chunks, and refusals that cannot loop."""

from __future__ import annotations

import hashlib

import pytest

from exchange.errors import MaisError
from exchange.runtime import DlqEntry, Reject
from exchange.runtime._context import Refusals
from exchange.runtime._dlq import DLQ_PREFIX, assemble_chunks, dlq_headers, dlq_messages

LIMIT = 100_000


def _messages(reject: Reject, **options: object) -> list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]:
    original = [("ce_id", b"abc")]

    def build(content: dict[str, str] | None = None) -> list[tuple[str, bytes]]:
        return dlq_headers(
            reject,
            adapter="a",
            agency="leeds-cc",
            source="dir:/d",
            original_headers=original,
            content=content,
        )

    return dlq_messages(reject, b"key", build(), build, max_bytes=LIMIT, **options)  # type: ignore[arg-type]


def _entries(messages: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]) -> list[DlqEntry]:
    return [DlqEntry.from_message(0, i, k, v, h) for i, (k, v, h) in enumerate(messages)]


def test_a_reject_that_fits_is_written_whole() -> None:
    reject = Reject("parse", "DataError", "bad", b"x" * 1000, "f.csv:1")
    ((key, value, headers),) = _messages(reject)
    assert (key, value) == (b"key", b"x" * 1000)
    (entry,) = _entries([(key, value, headers)])
    assert (entry.content, entry.size, entry.has_content) == ("full", 1000, True)


def test_a_reject_too_large_for_a_message_becomes_a_stub_with_size_and_sha256() -> None:
    data = bytes(range(256)) * 1000
    reject = Reject("parse", "DataError", "bad", data, "f.csv:1", kept="/drop/done/f.csv")
    ((key, value, headers),) = _messages(reject)
    assert value == b""
    assert sum(len(n) + len(v) for n, v in headers) < 2000
    (entry,) = _entries([(key, value, headers)])
    assert (entry.content, entry.size, entry.sha256) == (
        "omitted",
        len(data),
        hashlib.sha256(data).hexdigest(),
    )
    assert (entry.kept, entry.stage, entry.message, entry.has_content) == (
        "/drop/done/f.csv",
        "parse",
        "bad",
        False,
    )
    assert ("ce_id", b"abc") in entry.original_headers  # the input's own headers are kept


def test_a_unit_refused_up_front_is_a_stub_even_though_its_data_is_empty() -> None:
    reject = Reject("read", "UnitTooLarge", "too big", b"", "big.csv", True, 5_000_000, "ab" * 32)
    ((_, value, headers),) = _messages(reject)
    (entry,) = _entries([(None, value, headers)])
    assert (entry.content, entry.size, entry.sha256, entry.unit) == ("omitted", 5_000_000, "ab" * 32, True)


def test_with_chunks_allowed_the_content_is_split_into_messages_that_fit_and_read_back_whole() -> None:
    data = bytes(range(256)) * 1000
    reject = Reject("parse", "DataError", "bad", data, "f.csv:1")
    messages = _messages(reject, oversize="chunks")
    assert len(messages) == 3
    assert all(len(v) + sum(len(n) + len(x) for n, x in h) < LIMIT for _, v, h in messages)
    entries = _entries(messages)
    assert [e.chunk for e in entries] == [(1, 3), (2, 3), (3, 3)]
    (whole,) = assemble_chunks(entries)
    assert (whole.value, whole.content, whole.has_content, whole.coordinate) == (data, "chunks", True, "0:0")


def test_an_incomplete_set_of_chunks_reads_back_as_a_stub_without_content() -> None:
    data = bytes(range(256)) * 1000
    messages = _messages(Reject("parse", "DataError", "bad", data, "f.csv:1"), oversize="chunks")
    (entry,) = assemble_chunks(_entries(messages[:2]))
    assert (entry.value, entry.content) == (b"", "omitted")


def test_a_forced_stub_omits_content_that_would_fit() -> None:
    reject = Reject("parse", "DataError", "bad", b"x" * 1000, "f.csv:1")
    ((_, value, headers),) = _messages(reject, force_stub=True, oversize="chunks")
    assert value == b""
    assert (DLQ_PREFIX + "content", b"omitted") in headers


def test_huge_input_headers_are_left_out_of_a_stub() -> None:
    reject = Reject("parse", "DataError", "bad", b"x" * 200_000, "t/0/1")
    original = [("blob", b"y" * 80_000)]

    def build(content: dict[str, str] | None = None) -> list[tuple[str, bytes]]:
        return dlq_headers(
            reject,
            adapter="a",
            agency="leeds-cc",
            source="kafka:t",
            original_headers=original,
            content=content,
        )

    ((_, value, headers),) = dlq_messages(reject, None, build(), build, max_bytes=LIMIT)
    assert value == b""
    assert all(name.startswith(DLQ_PREFIX) for name, _ in headers)


def test_refusals_escalate_from_output_to_stub_to_a_clear_stop() -> None:
    refusals = Refusals()
    refusals.record({"t/0/5"}, "mais.x.dlq.v1")
    assert refusals.outputs_refused("t/0/5")
    assert not refusals.stub_only("t/0/5")
    refusals.record({"t/0/5\x1fdlq"}, "mais.x.dlq.v1")
    assert refusals.stub_only("t/0/5")
    with pytest.raises(MaisError, match=r"refused even a DLQ stub on mais\.x\.dlq\.v1") as raised:
        refusals.record({"t/0/5\x1fdlq"}, "mais.x.dlq.v1")
    assert raised.value.hint is not None
    refusals.clear()
    assert not refusals.outputs_refused("t/0/5")
