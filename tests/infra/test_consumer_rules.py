"""Pure rules of the shared consumer loop: its dead letters, and narrowing a refused batch down to the records that
cause the refusal; no services needed."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest

from infra.consumer import apply_or_refuse, dead_letter_records

pytestmark = pytest.mark.unit


def message(key: bytes | None, value: bytes | None) -> SimpleNamespace:
    return SimpleNamespace(topic="catalog.items", partition=3, offset=41, key=key, value=value)


def test_a_dead_letter_keeps_the_message_key_as_it_came_and_says_who_refused_it_and_why():
    refused = [(message(b"\xff-not-utf8", b"{oops"), "unreadable record"), (message(None, None), "empty"),
               (message(b"", b"x"), "no key text")]

    records = dead_letter_records("catalog.items.dlq", refused, consumer="search")

    assert [(topic, key) for topic, key, _ in records] == [("catalog.items.dlq", b"\xff-not-utf8"),
                                                           ("catalog.items.dlq", None), ("catalog.items.dlq", b"")]
    first = json.loads(records[0][2])
    assert first == {"reason": "unreadable record", "topic": "catalog.items", "partition": 3, "offset": 41,
                     "key": "\ufffd-not-utf8", "value": "{oops", "consumer": "search"}
    assert json.loads(records[1][2])["key"] is None and json.loads(records[1][2])["value"] is None


class Refused(Exception):
    """What a store says about a record it will never take."""


def store_refusing(poison: set[str], written: list[list[str]]):
    """A bulk write that refuses a whole batch holding any of `poison`, and records the batches it took."""

    async def write(records: list[str]) -> int:
        if poison & set(records):
            raise Refused(f"cannot take {sorted(poison & set(records))}")
        written.append(records)
        return len(records)

    return write


async def test_a_refused_batch_is_narrowed_to_the_records_that_fail_alone_and_the_rest_is_written_in_order():
    records = ["a1", "b1", "a2", "x", "b2", "a3", "y", "b3"]
    written: list[list[str]] = []

    applied = await apply_or_refuse(logging.getLogger("test"), lambda error: False,
                                    store_refusing({"x", "y"}, written), records)

    assert applied.refused == {3: "Refused: cannot take ['x']", 6: "Refused: cannot take ['y']"}
    assert [record for batch in written for record in batch] == ["a1", "b1", "a2", "b2", "a3", "b3"]
    assert [positions for positions, _ in applied.parts] == [[0, 1], [2], [4, 5], [7]]
    assert [count for _, count in applied.parts] == [2, 1, 2, 1]


async def test_a_batch_without_a_refusal_is_written_once_whole():
    written: list[list[str]] = []

    applied = await apply_or_refuse(logging.getLogger("test"), lambda error: False, store_refusing(set(), written),
                                    ["a", "b", "c"])

    assert written == [["a", "b", "c"]] and applied.refused == {} and applied.parts == [([0, 1, 2], 3)]


async def test_a_transient_error_is_retried_on_the_whole_batch_never_narrowed_or_refused():
    failures, written = [ConnectionRefusedError(111, "refused"), TimeoutError()], []

    async def write(records: list[str]) -> None:
        if failures:
            raise failures.pop(0)
        written.append(records)

    applied = await apply_or_refuse(logging.getLogger("test"), lambda error: isinstance(error, OSError), write,
                                    ["a", "x", "b"])

    assert written == [["a", "x", "b"]] and applied.refused == {} and failures == []


async def test_halves_follow_the_order_the_store_applies_records_in():
    records = ["a3", "x1", "a1", "b2", "a2"]  # the digit is the version
    written: list[list[str]] = []

    applied = await apply_or_refuse(logging.getLogger("test"), lambda error: False, store_refusing({"x1"}, written),
                                    records, order=lambda record: record[1])

    assert [record for batch in written for record in batch] == ["a1", "b2", "a2", "a3"]
    assert applied.refused == {1: "Refused: cannot take ['x1']"}
    assert [positions for positions, _ in applied.parts] == [[2], [3, 4, 0]]
