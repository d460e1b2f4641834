"""Feed body parsers: records come out one by one whatever the chunking, and broken input becomes Unparsable records."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import pytest

from inbound.parse import MAX_RECORD_BYTES, Unparsable, parse_csv, parse_json_array, parse_ndjson, parser_for
from tests.inbound.conftest import ndjson, parse_all

pytestmark = pytest.mark.unit


async def test_json_array_elements_come_out_in_order_with_exact_prices():
    body = b' [{"sku": "a", "price": 19.99}, {"sku": "b", "images": ["https://x/1.jpg"]}]'

    parsed = await parse_all(parse_json_array, body, size=3)

    assert parsed == [(0, {"sku": "a", "price": Decimal("19.99")}), (1, {"sku": "b", "images": ["https://x/1.jpg"]})]


async def test_json_array_element_that_is_not_an_object_is_unparsable_and_the_rest_is_read():
    body = b'[{"sku": "a"}, 42, {"sku": "c"}]'

    parsed = await parse_all(parse_json_array, body)

    assert parsed[0] == (0, {"sku": "a"})
    assert isinstance(parsed[1][1], Unparsable) and "not an object" in parsed[1][1].reason
    assert parsed[2] == (2, {"sku": "c"})


async def test_json_array_syntax_error_keeps_the_records_before_it_and_reports_the_rest():
    body = b'[{"sku": "a"}, {"sku": "b"}, {"sku": oops}, {"sku": "d"}]'

    parsed = await parse_all(parse_json_array, body)

    assert [index for index, _ in parsed] == [0, 1, 2]
    assert isinstance(parsed[2][1], Unparsable) and "malformed JSON" in parsed[2][1].reason


async def test_truncated_json_array_is_reported_not_raised():
    parsed = await parse_all(parse_json_array, b'[{"sku": "a"}, {"sku": ')

    assert parsed[0] == (0, {"sku": "a"})
    assert isinstance(parsed[1][1], Unparsable)


async def test_body_that_is_not_an_array_is_one_unparsable_record():
    parsed = await parse_all(parse_json_array, b'{"sku": "a"}')

    assert len(parsed) == 1 and isinstance(parsed[0][1], Unparsable)


async def test_ndjson_broken_line_is_unparsable_and_the_next_line_is_read():
    body = b'{"sku": "a"}\n\n{"sku": \r\n["not", "an object"]\n{"sku": "d", "price": 1.5}'

    parsed = await parse_all(parse_ndjson, body, size=5)

    assert parsed[0] == (0, {"sku": "a"})
    assert isinstance(parsed[1][1], Unparsable) and parsed[1][1].raw == '{"sku": '
    assert isinstance(parsed[2][1], Unparsable)
    assert parsed[3] == (3, {"sku": "d", "price": Decimal("1.5")})


async def test_ndjson_overlong_line_is_refused_without_losing_the_next_line():
    body = b'{"sku": "' + b"x" * (MAX_RECORD_BYTES + 10) + b'"}\n{"sku": "b"}\n'

    parsed = await parse_all(parse_ndjson, body, size=64 * 1024)

    assert isinstance(parsed[0][1], Unparsable) and "longer than" in parsed[0][1].reason
    assert parsed[1] == (1, {"sku": "b"})


async def test_ndjson_chunking_does_not_change_the_records():
    records = [{"sku": f"s{i}", "title": "ünïcode ✓"} for i in range(50)]

    one_byte = await parse_all(parse_ndjson, ndjson(records), size=1)
    whole = await parse_all(parse_ndjson, ndjson(records), size=10**6)

    assert one_byte == whole == list(enumerate(records))


async def test_csv_gathers_attribute_stock_and_image_columns():
    body = (b"sku,title,price,attr.color,attr.size,stock.w1,stock.w2,images\n"
            b"a,Shirt,19.99,red,M,5,,https://x/1.jpg|https://x/2.jpg\n")

    parsed = await parse_all(parse_csv, body)

    assert parsed == [(0, {"sku": "a", "title": "Shirt", "price": "19.99", "attributes": {"color": "red", "size": "M"},
                           "stock": [{"warehouse_id": "w1", "quantity": "5"}],
                           "images": ["https://x/1.jpg", "https://x/2.jpg"]})]


async def test_csv_json_cells_and_quoted_multiline_titles():
    body = ('\ufeffsku,title,attributes,stock,images\n'
            'a,"Two\nlines, ""quoted""","{""color"": ""red"", ""ram_gb"": 8}",'
            '"[{""warehouse_id"": ""w1"", ""quantity"": 3}]","[""https://x/1.jpg""]"\n').encode()

    parsed = await parse_all(parse_csv, body, size=4)

    assert parsed == [(0, {"sku": "a", "title": 'Two\nlines, "quoted"', "attributes": {"color": "red", "ram_gb": 8},
                           "stock": [{"warehouse_id": "w1", "quantity": 3}], "images": ["https://x/1.jpg"]})]


async def test_csv_broken_rows_are_unparsable_and_later_rows_still_read():
    body = b'sku,title,attributes\na,One,\nb,Two\nc,Three,{not json\n\nd,Four,\ne,"never closed\n'

    parsed = await parse_all(parse_csv, body)

    assert [index for index, _ in parsed] == [0, 1, 2, 3, 4]
    assert parsed[0] == (0, {"sku": "a", "title": "One"})
    assert "cells" in parsed[1][1].reason and "not valid JSON" in parsed[2][1].reason
    assert parsed[3] == (3, {"sku": "d", "title": "Four"})
    assert isinstance(parsed[4][1], Unparsable)


async def test_csv_row_giving_attributes_both_ways_is_unparsable():
    body = b'sku,attributes,attr.color\na,"{""size"": ""M""}",red\nb,,blue\n'

    parsed = await parse_all(parse_csv, body)

    assert isinstance(parsed[0][1], Unparsable) and "both" in parsed[0][1].reason
    assert parsed[1] == (1, {"sku": "b", "attributes": {"color": "blue"}})


def test_parser_is_chosen_by_media_type_ignoring_parameters():
    assert parser_for("application/x-ndjson; charset=utf-8") is parse_ndjson
    assert parser_for("text/csv") is parse_csv
    assert parser_for("application/json") is parse_json_array
    assert parser_for("text/plain") is None and parser_for(None) is None


def crafted_csv(newlines: int) -> bytes:
    """One quoted cell holding nothing but newlines: the row stays open on every one of them."""
    return b'sku,title\na,"' + b"\n" * newlines + b'"\n'


def plain_csv(size: int) -> bytes:
    """Ordinary rows, no quoted newlines, `size` bytes in all."""
    rows = (b"s%07d,Item %07d,shirts,19.99,INR,small\n" % (i, i) for i in range(size // 40 + 1))
    return (b"sku,title,category,price,currency,size_class\n" + b"".join(rows))[:size]


async def fastest_parse(parser, body: bytes) -> float:
    times = []
    for _ in range(3):
        began = time.perf_counter()
        await parse_all(parser, body, size=64 * 1024)
        times.append(time.perf_counter() - began)
    return min(times)


async def test_csv_quoted_cell_of_many_newlines_parses_no_slower_than_a_plain_csv_of_its_size():
    crafted = crafted_csv(200_000)

    crafted_seconds = await fastest_parse(parse_csv, crafted)
    plain_seconds = await fastest_parse(parse_csv, plain_csv(len(crafted)))

    assert crafted_seconds < 5 * plain_seconds, (crafted_seconds, plain_seconds)


async def test_csv_quoted_cell_of_many_lines_keeps_its_newlines_whatever_the_chunking():
    body = b'sku,title\r\na,"one\r\n\r\ntwo ""2"""\r\nb,three\r\n'

    one_byte = await parse_all(parse_csv, body, size=1)
    whole = await parse_all(parse_csv, body, size=len(body))

    assert one_byte == whole == [(0, {"sku": "a", "title": 'one\n\ntwo "2"'}), (1, {"sku": "b", "title": "three"})]


@pytest.mark.parametrize(("parser", "body"), [
    (parse_csv, plain_csv(1 << 20)),
    (parse_ndjson, ndjson([{"sku": f"s{i}", "title": "Item"} for i in range(30_000)])),
    (parse_json_array, json.dumps([{"sku": f"s{i}", "title": "Item"} for i in range(30_000)]).encode()),
])
async def test_a_large_chunk_is_parsed_in_steps_that_let_other_tasks_run(parser, body):
    turns = 0

    async def other_task():
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    beside = asyncio.create_task(other_task())
    await asyncio.sleep(0)
    before = turns
    parsed = await parse_all(parser, body, size=len(body))
    beside.cancel()

    assert len(parsed) > 1000 and turns - before > 10


async def test_json_array_element_longer_than_the_record_limit_is_refused_and_the_next_one_read():
    body = b'[{"sku": "a"}, {"sku": "' + b"x" * (MAX_RECORD_BYTES + 10) + b'"}, {"sku": "c"}]'

    parsed = await parse_all(parse_json_array, body, size=64 * 1024)

    assert parsed[0] == (0, {"sku": "a"})
    assert isinstance(parsed[1][1], Unparsable) and "longer than" in parsed[1][1].reason
    assert parsed[2] == (2, {"sku": "c"}) and len(parsed) == 3


async def test_json_array_element_nested_too_deeply_is_refused_and_the_next_one_read():
    deep = b"[" * 100_000 + b"]" * 100_000
    body = b'[{"sku": "a", "attributes": {"x": ' + deep + b'}}, {"sku": "b", "title": "[[[[{{{{"}]'

    parsed = await parse_all(parse_json_array, body, size=64 * 1024)

    assert isinstance(parsed[0][1], Unparsable) and "nested more than" in parsed[0][1].reason
    assert parsed[1:] == [(1, {"sku": "b", "title": "[[[[{{{{"})]


async def test_ndjson_line_nested_too_deeply_is_refused_and_the_next_line_read():
    body = b'{"sku": "a", "attributes": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b'}}\n{"sku": "b"}\n'

    parsed = await parse_all(parse_ndjson, body, size=64 * 1024)

    assert isinstance(parsed[0][1], Unparsable) and "nested more than" in parsed[0][1].reason
    assert parsed[1] == (1, {"sku": "b"})


async def test_csv_json_cell_nested_too_deeply_is_refused_and_the_next_row_read():
    body = b'sku,attributes\na,"{""x"": ' + b"[" * 10_000 + b"]" * 10_000 + b'}"\nb,"{""x"": [[1]]}"\n'

    parsed = await parse_all(parse_csv, body, size=64 * 1024)

    assert isinstance(parsed[0][1], Unparsable) and "nested more than" in parsed[0][1].reason
    assert parsed[1] == (1, {"sku": "b", "attributes": {"x": [[1]]}})


async def test_ndjson_number_too_long_to_read_is_refused_and_the_next_line_read():
    body = b'{"sku": "a", "version": ' + b"9" * 5000 + b'}\n{"sku": "b"}\n'

    parsed = await parse_all(parse_ndjson, body)

    assert isinstance(parsed[0][1], Unparsable) and "not valid JSON" in parsed[0][1].reason
    assert parsed[1] == (1, {"sku": "b"})


async def test_json_array_number_too_long_to_read_is_refused_and_the_next_one_read():
    # ijson's C backend crashed the whole process (SIGSEGV) on this one.
    body = b'[{"sku": "a", "version": ' + b"9" * 5000 + b'}, {"sku": "b"}]'

    parsed = await parse_all(parse_json_array, body)

    assert isinstance(parsed[0][1], Unparsable) and "not valid JSON" in parsed[0][1].reason
    assert parsed[1] == (1, {"sku": "b"})


@pytest.mark.parametrize("parser", [parse_ndjson, parse_json_array])
async def test_lone_surrogate_escape_is_refused_and_the_next_record_read(parser):
    records = [{"sku": "a", "title": "\ud800"}, {"sku": "b", "title": "\U0001f600"}]
    body = ndjson(records) if parser is parse_ndjson else json.dumps(records).encode()

    parsed = await parse_all(parser, body)

    assert isinstance(parsed[0][1], Unparsable) and "surrogate" in parsed[0][1].reason
    assert parsed[1] == (1, {"sku": "b", "title": "\U0001f600"})
