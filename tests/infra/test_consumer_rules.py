"""Pure rules of the shared consumer loop's dead letters: no services needed."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from infra.consumer import dead_letter_records

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
