"""Streaming parsers of a feed body (JSON array, NDJSON, CSV): raw byte chunks in, `(index, record | Unparsable)` out.

Each parser holds at most one record (or one piece of the body) in memory, so a feed of any length streams through;
`inbound.framing` finds where records end, in linear time, and gives the event loop a turn every few kilobytes.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from typing import Any

from inbound.framing import (
    MAX_NESTING,
    MAX_RECORD_BYTES,
    ArrayElements,
    BrokenArray,
    CsvRows,
    Unparsable,
    in_steps,
    lines,
    nested_too_deeply,
    preview,
)

__all__ = ["MAX_RECORD_BYTES", "PARSERS", "Parsed", "Parser", "Unparsable", "csv_record", "parse_csv",
           "parse_json_array", "parse_ndjson", "parser_for"]
Parsed = tuple[int, dict[str, Any] | Unparsable]
Parser = Callable[[AsyncIterator[bytes]], AsyncIterator[Parsed]]


def parser_for(content_type: str | None) -> Parser | None:
    """The parser for a Content-Type header (parameters such as charset are ignored); None when unsupported."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    return PARSERS.get(media_type)


async def parse_json_array(chunks: AsyncIterator[bytes]) -> AsyncIterator[Parsed]:
    """Elements of a top-level JSON array; a syntax error ends the stream with one Unparsable for the unread rest."""
    elements, index, started = ArrayElements(), 0, False
    try:
        async for piece in in_steps(chunks):
            if not started and piece.strip():
                started = True
                if piece.lstrip()[:1] != b"[":
                    yield 0, Unparsable("the body is not a JSON array")
                    return
            for element in elements.feed(piece):
                for record in [element] if isinstance(element, Unparsable) else _element_records(element):
                    yield index, record
                    index += 1
        for unfinished in elements.end():
            for record in _element_records(unfinished):
                yield index, record
                index += 1
    except BrokenArray as error:
        yield index, Unparsable(f"malformed JSON from here on, the rest of the array was not read: {error}")


async def parse_ndjson(chunks: AsyncIterator[bytes]) -> AsyncIterator[Parsed]:
    """One JSON object per line; blank lines are skipped, a broken line is Unparsable and the next one is read."""
    index = 0
    async for line in lines(in_steps(chunks)):
        if isinstance(line, bytes) and not line.strip():
            continue
        yield index, line if isinstance(line, Unparsable) else _ndjson_record(line)
        index += 1


async def parse_csv(chunks: AsyncIterator[bytes]) -> AsyncIterator[Parsed]:
    """A header row naming the record fields, then one record per row (see `csv_record` for the column forms)."""
    header: list[str] | None = None
    index = 0
    async for text in _csv_rows(chunks):
        row = _csv_cells(text)
        if header is None:
            header = [name.strip() for name in row] if isinstance(row, list) else []
            continue
        if isinstance(row, list) and not any(cell.strip() for cell in row):
            continue
        yield index, csv_record(header, row) if isinstance(row, list) else row
        index += 1


def csv_record(header: list[str], row: list[str]) -> dict[str, Any] | Unparsable:
    """Empty cells are absent fields; `attr.<name>` and `stock.<warehouse>` columns gather into attributes and stock;
    `attributes` and `stock` cells hold JSON; `images` holds a JSON list or `|`-separated URLs."""
    if len(row) != len(header):
        return Unparsable(f"the row has {len(row)} cells but the header has {len(header)}", ",".join(row))
    record: dict[str, Any] = {}
    gathered: dict[str, Any] = {"attributes": {}, "stock": []}
    try:
        for name, cell in ((name, cell.strip()) for name, cell in zip(header, row) if cell.strip()):
            if name.startswith("attr."):
                gathered["attributes"][name.removeprefix("attr.")] = cell
            elif name.startswith("stock."):
                gathered["stock"].append({"warehouse_id": name.removeprefix("stock."), "quantity": cell})
            else:
                record[name] = _cell(name, cell)
        for name, value in gathered.items():
            _merge(record, name, value)
    except ValueError as error:
        return Unparsable(str(error), ",".join(row))
    return record


def _cell(name: str, cell: str) -> Any:
    if name in ("attributes", "stock") or (name == "images" and cell.startswith("[")):
        return _json_cell(name, cell)
    return _split_urls(cell) if name == "images" else cell


def _merge(record: dict[str, Any], name: str, gathered: Any) -> None:
    if gathered and name in record:
        raise ValueError(f"{name} is given both as a JSON column and as prefixed columns; use one of the two")
    if gathered:
        record[name] = gathered


def _split_urls(cell: str) -> list[str]:
    return [url.strip() for url in cell.split("|") if url.strip()]


def _json_cell(name: str, cell: str) -> Any:
    try:
        return _read_json(cell.encode())
    except _Refused as refusal:
        raise ValueError(f"column {name} {refusal}") from None
    except ValueError as error:
        raise ValueError(f"column {name} is not valid JSON: {error}") from None


def _as_record(element: Any) -> dict[str, Any] | Unparsable:
    if isinstance(element, dict):
        return element
    return Unparsable(f"the record is a JSON {type(element).__name__}, not an object", preview(element))


def _ndjson_record(line: bytes) -> dict[str, Any] | Unparsable:
    try:
        return _as_record(_read_json(line))
    except _Refused as refusal:
        return Unparsable(f"the record {refusal}", preview(line))
    except ValueError as error:
        return Unparsable(f"the line is not valid JSON: {error}", preview(line))


def _element_records(element: bytes) -> Iterator[dict[str, Any] | Unparsable]:
    """The record of one array element; then BrokenArray if its value is followed by anything but the next comma."""
    try:
        yield _as_record(_read_json(element))
    except _Refused as refusal:
        yield Unparsable(f"the record {refusal}", preview(element))
    except json.JSONDecodeError as error:
        if error.msg == "Extra data":  # a whole value, then no comma: the value is read, as ijson did, then the error
            yield from _element_records(error.doc[:error.pos].encode())
        raise BrokenArray(str(error)) from None
    except ValueError as error:  # bytes that are not UTF-8, an integer of 5,000 digits
        yield Unparsable(f"the record is not valid JSON: {error}", preview(element))


class _Refused(Exception):
    """JSON that parses, but that no record can hold; the message says why."""


_JSON = json.JSONDecoder(parse_float=Decimal)  # one decoder: json.loads(..., parse_float=) builds one per call
# `\ud800`-`\udfff` escapes: json.loads turns a lone one into a string that cannot be encoded (to Kafka, to MySQL).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _read_json(text: bytes) -> Any:
    """JSON with exact decimals; ValueError when it is not JSON, _Refused when it is but no record can hold it."""
    if nested_too_deeply(text):
        raise _Refused(f"is nested more than {MAX_NESTING} levels deep")
    value = _JSON.decode(text.decode().removeprefix("\ufeff"))  # a byte order mark may open an NDJSON body
    if _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(value):
        raise _Refused("holds a lone UTF-16 surrogate (a \\u escape between d800 and dfff that is not half of a pair)")
    return value


def _holds_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False, default=str).encode()
    except UnicodeEncodeError:
        return True
    return False


async def _csv_rows(chunks: AsyncIterator[bytes]) -> AsyncIterator[str | Unparsable]:
    """The body's CSV rows as text (a quoted cell may span lines), read as UTF-8 with or without a byte order mark."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    rows = CsvRows()
    async for piece in in_steps(chunks):
        for row in rows.feed(piece):
            yield row if isinstance(row, Unparsable) else decoder.decode(row)
    for row in rows.end():
        yield row if isinstance(row, Unparsable) else decoder.decode(row)


def _csv_cells(text: str | Unparsable) -> list[str] | Unparsable:
    if isinstance(text, Unparsable):
        return text
    try:
        return next(csv.reader([text]), [])
    except csv.Error as error:
        return Unparsable(f"the row is not valid CSV: {error}", preview(text))


PARSERS: dict[str, Parser] = {
    "application/json": parse_json_array,
    "application/x-ndjson": parse_ndjson,
    "application/jsonl": parse_ndjson,
    "text/csv": parse_csv,
}
