"""The archive's rules without a store: partitions, what a seller may see, cursors, durations, the merged list."""

from __future__ import annotations

from datetime import timedelta

import pytest

from archival.model import month_of, parse_duration, position, seller_view, year_of
from infra.paging import BadCursor, decode_cursor, encode_cursor
from orders.views import micros, newest_first


def order(order_id: str, created_at: str, lines=(("s1", "10.00", 2),)) -> dict:
    return {"order_id": order_id, "user_id": "u1", "status": "DELIVERED", "cancel_reason": None, "pincode": "560001",
            "created_at": created_at, "total": {"amount": "99.00", "currency": "INR"},
            "timeline": [{"status": "CREATED", "at": created_at}], "payment": {"payment_id": "p"}, "refunds": [],
            "lines": [{"item_id": f"i{n}", "seller_id": seller, "title": "t", "quantity": q,
                       "unit_price": {"amount": price, "currency": "INR"}, "warehouse_id": "w", "eta_hours": 4.0}
                      for n, (seller, price, q) in enumerate(lines)]}


def test_a_sellers_view_has_only_its_lines_and_their_subtotal_never_the_shopper_or_address():
    doc = order("o1", "2026-03-01T10:00:00.123456Z", lines=(("s1", "10.00", 2), ("s2", "5.00", 1), ("s1", "1.25", 4)))
    view = seller_view(doc, "s1")
    assert [line["item_id"] for line in view["lines"]] == ["i0", "i2"]
    assert view["subtotal"] == {"amount": "25.00", "currency": "INR"}
    assert not {"user_id", "pincode", "total", "payment", "refunds"} & set(view)


def test_partitions_are_a_shoppers_year_and_a_sellers_month_from_the_exact_creation_time():
    doc = order("o1", "2026-12-31T23:59:59.999999Z")
    assert micros(doc) % 1_000_000 == 999_999
    assert (year_of(micros(doc)), month_of(micros(doc))) == (2026, 202612)
    assert position(doc) == (micros(doc), "o1")


def test_a_cursor_reads_back_for_its_own_list_only_and_a_forged_one_is_refused():
    at = (1_790_000_000_123_456, "abc")
    assert decode_cursor("orders", encode_cursor("orders", at)) == at
    for forged in ("", "not base64!", encode_cursor("user:x", at), "WzEsMiwzXQ", encode_cursor("orders", (-1, "a"))):
        with pytest.raises(BadCursor):
            decode_cursor("orders", forged)


@pytest.mark.parametrize(("text", "seconds"), [("30d", 30 * 86400), ("12h", 43200), ("90m", 5400), ("45s", 45),
                                               ("3600", 3600), ("0", 0), ("2w", 14 * 86400)])
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "-1d", "1y", "1.5h", "d"])
def test_what_is_not_a_duration_is_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_merged_list_is_newest_first_and_counts_an_order_read_in_both_stores_once():
    a, b, c = order("a", "2026-01-01T00:00:00Z"), order("b", "2026-01-01T00:00:00.5Z"), order("c", "2026-02-01T00:00:00Z")
    same_time = order("d", "2026-01-01T00:00:00Z")
    assert [o["order_id"] for o in newest_first([c, a], [b, a, same_time], 10)] == ["c", "b", "d", "a"]
    assert [o["order_id"] for o in newest_first([c, a], [b], 2)] == ["c", "b"]
