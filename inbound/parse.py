"""Streaming parsers of a feed body (JSON array, NDJSON, CSV): raw byte chunks in, `(index, record | Unparsable)` out.

Each parser holds at most one record (or one input chunk) in memory, so a feed of any length streams through.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ijson

# A single record larger than this is refused rather than buffered without bound.
MAX_RECORD_BYTES = 1 << 20


@dataclass(frozen=True)
class Unparsable:
    """A record that could not be read at all; it becomes a rejected record with this reason."""

    reason: str
    raw: str | None = None


Parsed = tuple[int, dict[str, Any] | Unparsable]
Parser = Callable[[AsyncIterator[bytes]], AsyncIterator[Parsed]]


def parser_for(content_type: str | None) -> Parser | None:
    """The parser for a Content-Type header (parameters such as charset are ignored); None when unsupported."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    return PARSERS.get(media_type)


async def parse_json_array(chunks: AsyncIterator[bytes]) -> AsyncIterator[Parsed]:
    """Elements of a top-level JSON array; a syntax error ends the stream with one Unparsable for the unread rest."""
    elements = ijson.sendable_list()
    parser = ijson.items_coro(elements, "item")
    index, started, failure = 0, False, None
    try:
        async for chunk in chunks:
            if not chunk:
                continue  # an empty chunk would tell the parser the document ended
            if not started and chunk.strip():
                started = True
                if chunk.lstrip()[:1] != b"[":
                    yield 0, Unparsable("the body is not a JSON array")
                    return
            parser.send(chunk)
            for element in _drain(elements):
                yield index, _as_record(element)
                index += 1
        parser.close()
    except ijson.JSONError as error:
        failure = Unparsable(f"malformed JSON from here on, the rest of the array was not read: {_first_line(error)}")
    for element in _drain(elements):
        yield index, _as_record(element)
        index += 1
    if failure:
        yield index, failure


async def parse_ndjson(chunks: AsyncIterator[bytes]) -> AsyncIterator[Parsed]:
    """One JSON object per line; blank lines are skipped, a broken line is Unparsable and the next one is read."""
    index = 0
    async for line in _lines(chunks):
        if isinstance(line, bytes) and not line.strip():
            continue
        yield index, line if isinstance(line, Unparsable) else _ndjson_record(line)
        index += 1


async def parse_csv(chunks: AsyncIterator[bytes]) -> AsyncIterator[Parsed]:
    """A header row naming the record fields, then one record per row (see `csv_record` for the column forms)."""
    header: list[str] | None = None
    index = 0
    async for text in _csv_rows(_lines(chunks)):
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
        return json.loads(cell, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise ValueError(f"column {name} is not valid JSON: {error}") from None


def _as_record(element: Any) -> dict[str, Any] | Unparsable:
    if isinstance(element, dict):
        return element
    return Unparsable(f"the record is a JSON {type(element).__name__}, not an object", _preview(element))


def _ndjson_record(line: bytes) -> dict[str, Any] | Unparsable:
    try:
        return _as_record(json.loads(line, parse_float=Decimal))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return Unparsable(f"the line is not valid JSON: {error}", _preview(line))


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes | Unparsable]:
    """Complete lines (without the newline), however the body was cut into chunks; an overlong line is Unparsable."""
    pending, skipping = b"", False
    async for chunk in chunks:
        *complete, pending = (pending + chunk).split(b"\n")
        for line in complete:
            if not skipping:
                yield _line(line)
            skipping = False
        if len(pending) > MAX_RECORD_BYTES:
            # Reported once, then dropped up to the next newline instead of being buffered.
            if not skipping:
                yield _line(pending)
            pending, skipping = b"", True
    if pending and not skipping:
        yield _line(pending)


def _line(line: bytes) -> bytes | Unparsable:
    if len(line) > MAX_RECORD_BYTES:
        return Unparsable(f"the line is longer than {MAX_RECORD_BYTES} bytes", _preview(line))
    return line.rstrip(b"\r")


async def _csv_rows(lines: AsyncIterator[bytes | Unparsable]) -> AsyncIterator[str | Unparsable]:
    """Physical lines joined into CSV rows: a quoted cell may span lines, so a row ends where its quotes balance."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    parts: list[str] = []
    async for line in lines:
        if isinstance(line, Unparsable):
            parts = []
            yield line
            continue
        parts.append(decoder.decode(line + b"\n"))
        text = "".join(parts)
        if text.count('"') % 2 == 0:
            parts = []
            yield text
        elif len(text) > MAX_RECORD_BYTES:
            parts = []
            yield Unparsable("a quoted cell is never closed", _preview(text))
    if parts:
        yield Unparsable("a quoted cell is never closed at the end of the body", _preview("".join(parts)))


def _csv_cells(text: str | Unparsable) -> list[str] | Unparsable:
    if isinstance(text, Unparsable):
        return text
    try:
        return next(csv.reader([text]), [])
    except csv.Error as error:
        return Unparsable(f"the row is not valid CSV: {error}", _preview(text))


def _drain(items: list[Any]) -> Iterator[Any]:
    taken = list(items)
    items.clear()
    return iter(taken)


def _first_line(error: Exception) -> str:
    message = error.args[0] if error.args else error
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def _preview(value: Any) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text[:500]


PARSERS: dict[str, Parser] = {
    "application/json": parse_json_array,
    "application/x-ndjson": parse_ndjson,
    "application/jsonl": parse_ndjson,
    "text/csv": parse_csv,
}
