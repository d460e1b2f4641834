"""Feed body parsers: records come out one by one whatever the chunking, and broken input becomes Unparsable records."""

from __future__ import annotations

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
