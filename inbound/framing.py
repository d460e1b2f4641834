"""Where each record of a feed body begins and ends (NDJSON lines, CSV rows, JSON array elements), in time linear in
the body, with every record capped in size (and JSON in nesting) before anything parses it.

Each framer moves over the bytes a stretch at a time with `bytes.find` or one regular expression, never rescanning
what it has passed; `in_steps` hands the body over in bounded pieces and gives the event loop a turn between them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

# A single record larger than this is refused rather than buffered without bound.
MAX_RECORD_BYTES = 1 << 20
# A feed record nests 3 levels (record, stock, line); Python's json recurses once per level and pydantic will not
# serialise past a few hundred, so deeper JSON is refused before it is parsed.
MAX_NESTING = 64
# Parsing never holds the event loop for more than this many bytes of the body: other requests are served meanwhile.
STEP_BYTES = 8 * 1024


@dataclass(frozen=True)
class Unparsable:
    """A record that could not be read at all; it becomes a rejected record with this reason."""

    reason: str
    raw: str | None = None


class BrokenArray(ValueError):
    """The JSON array itself is malformed (not one element): nothing after this point can be read."""


def preview(value: Any) -> str:
    text = value[:2000].decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text[:500]


async def in_steps(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body in pieces of at most STEP_BYTES, with a turn for the event loop's other tasks every STEP_BYTES."""
    since_turn = 0
    async for chunk in chunks:
        for start in range(0, len(chunk), STEP_BYTES):
            piece = chunk[start:start + STEP_BYTES]
            yield piece
            since_turn += len(piece)
            if since_turn >= STEP_BYTES:
                since_turn = 0
                await asyncio.sleep(0)


async def lines(pieces: AsyncIterator[bytes]) -> AsyncIterator[bytes | Unparsable]:
    """Complete lines (without the newline), however the body was cut; an overlong line is Unparsable."""
    pending, skipping = bytearray(), False  # the unfinished line: appended to, never rebuilt
    async for piece in pieces:
        first, *rest = piece.split(b"\n")
        if rest:
            if not skipping:
                yield _line(bytes(pending) + first if pending else first)
            pending, skipping = bytearray(), False
            *complete, first = rest
            for line in complete:
                yield _line(line)
        if not skipping:
            pending += first
            if len(pending) > MAX_RECORD_BYTES:
                # Reported once, then dropped up to the next newline instead of being buffered.
                yield _line(bytes(pending))
                pending, skipping = bytearray(), True
    if pending and not skipping:
        yield _line(bytes(pending))


def _line(line: bytes) -> bytes | Unparsable:
    if len(line) > MAX_RECORD_BYTES:
        return Unparsable(f"the line is longer than {MAX_RECORD_BYTES} bytes", preview(line))
    return line.rstrip(b"\r")


_CRS_BEFORE_NEWLINE = re.compile(rb"\r+\n")


def _without_crs(row: bytes) -> bytes:
    """Each line's trailing carriage returns removed: CRLF line ends read as LF (the check first: the regex is slow)."""
    return _CRS_BEFORE_NEWLINE.sub(b"\n", row) if b"\r" in row else row


class CsvRows:
    """Cuts CSV bytes into rows: a row ends at a newline where the quotes seen so far balance, so a quoted cell may
    span lines. Rows come out ending in one newline, each line's trailing carriage returns removed.

    It moves to the end of a line, or through a quoted cell to its closing quote, at a time: a cell of many short lines
    costs what one long line costs. A line over MAX_RECORD_BYTES, or a row that is still inside a quoted cell at a line
    end past MAX_RECORD_BYTES, is refused and the next row starts after its line.
    """

    def __init__(self) -> None:
        self.row = bytearray()  # the unfinished row
        self.line = 0  # bytes of its unfinished physical line
        self.quoted = False  # inside a quoted cell: an odd number of quotes so far
        self.skipping = False  # dropping a refused row's line up to its newline

    def feed(self, data: bytes) -> Iterator[bytes | Unparsable]:
        at = 0
        while at < len(data):
            if self.skipping:
                end = data.find(b"\n", at)
                self.skipping = end < 0
                at = len(data) if end < 0 else end + 1
            elif self.quoted:
                at, row = self._through_quoted(data, at)
                yield from row
            elif not self.row and (plain := _plain_lines(data, at)):
                at, rows = plain
                yield from rows
            else:
                at, row = self._to_line_end(data, at)
                yield from row

    def end(self) -> Iterator[bytes | Unparsable]:
        if self.row and self.quoted:
            # The body's end ends the last line too: past the limit, it is refused as at any other line end.
            where = "" if self.line and len(self.row) + 1 > MAX_RECORD_BYTES else " at the end of the body"
            row = self.row + b"\n" if self.line else self.row
            yield Unparsable(f"a quoted cell is never closed{where}", _row_preview(row))
        elif self.row and not self.skipping:
            yield _without_crs(bytes(self.row) + b"\n")

    def _through_quoted(self, data: bytes, at: int) -> tuple[int, list[bytes | Unparsable]]:
        closing = data.find(b'"', at)
        stop = len(data) if closing < 0 else closing + 1
        # The first line end inside the cell at which the row is past the limit, if this stretch reaches one.
        over = data.find(b"\n", max(at, at + MAX_RECORD_BYTES - len(self.row)), stop)
        if over >= 0:
            line = over - (data.rfind(b"\n", at, over) + 1 or at - self.line)
            return over + 1, [self._refuse(data[at:over + 1], line > MAX_RECORD_BYTES)]
        self._take(data, at, stop)
        self.quoted = closing < 0
        if self.line > MAX_RECORD_BYTES:
            self.skipping = True
            return stop, [self._refuse(b"", True)]
        return stop, []

    def _to_line_end(self, data: bytes, at: int) -> tuple[int, list[bytes | Unparsable]]:
        end = data.find(b"\n", at)
        stop = len(data) if end < 0 else end + 1
        if self.line + (stop if end < 0 else end) - at > MAX_RECORD_BYTES:
            self.skipping = end < 0
            return stop, [self._refuse(data[at:stop], True)]
        self._take(data, at, stop)
        self.quoted = data.count(b'"', at, stop) % 2 == 1
        if end < 0:
            return stop, []
        if not self.quoted:
            return stop, [self._row()]
        if len(self.row) > MAX_RECORD_BYTES:
            return stop, [self._refuse(b"", False)]
        return stop, []

    def _take(self, data: bytes, at: int, stop: int) -> None:
        self.row += memoryview(data)[at:stop]
        newline = data.rfind(b"\n", at, stop)
        self.line = stop - newline - 1 if newline >= 0 else self.line + stop - at

    def _row(self) -> bytes:
        row = bytes(self.row)
        self.row, self.line, self.quoted = bytearray(), 0, False
        return _without_crs(row)

    def _refuse(self, stretch: bytes, line_too_long: bool) -> Unparsable:
        row = bytes(self.row) + stretch
        self.row, self.line, self.quoted = bytearray(), 0, False
        if line_too_long:
            line = row.removesuffix(b"\n")
            line = line[line.rfind(b"\n") + 1:]
            return Unparsable(f"the line is longer than {MAX_RECORD_BYTES} bytes", preview(line))
        return Unparsable("a quoted cell is never closed", _row_preview(row))


def _row_preview(row: bytes | bytearray) -> str:
    """The start of a refused row as it would have been read: each line's trailing carriage returns removed."""
    return preview(_without_crs(bytes(row[:4000])))


def _plain_lines(data: bytes, at: int) -> tuple[int, list[bytes | Unparsable]] | None:
    """The complete lines from `at` up to the next quote, each a row of its own (no quote, no cell spanning lines),
    split at C speed; None when there is no such line."""
    quote = data.find(b'"', at)
    last_newline = data.rfind(b"\n", at, len(data) if quote < 0 else quote)
    if last_newline < 0:
        return None
    return last_newline + 1, [_line(line) if len(line) > MAX_RECORD_BYTES else line.rstrip(b"\r") + b"\n"
                              for line in data[at:last_newline].split(b"\n")]


# A whole string, or one byte that matters outside strings: a bracket, a comma, or a quote whose string does not end
# in this piece (the first branch then fails). Possessive repeats: no backtracking whatever the input.
_STRING = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_JSON_TOKEN = re.compile(_STRING + rb'|[\[\]{},"]', re.DOTALL)
_STRING_BODY = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+', re.DOTALL)
_OPENERS, _CLOSERS = frozenset(b"[{"), frozenset(b"]}")
_QUOTE, _COMMA, _CLOSE_OBJECT = ord('"'), ord(","), ord("}")


def _shallow_rest() -> re.Pattern[bytes]:
    """What is left of an array element up to its comma (or the array's end), when it nests at most _SHALLOW_LEVELS
    arrays and objects: records usually are, and then one match at C speed replaces a step per string and bracket."""
    nested = rb'[\[{](?:' + _STRING + rb'|[^\[\]{}"])*+[\]}]'
    for _ in range(_SHALLOW_LEVELS - 1):
        nested = rb'[\[{](?:' + _STRING + rb'|' + nested + rb'|[^\[\]{}"])*+[\]}]'
    return re.compile(rb'(?:' + _STRING + rb'|' + nested + rb'|[^\[\]{}",])*+(?=[,\]])', re.DOTALL)


_SHALLOW_LEVELS = 4
_SHALLOW_REST = _shallow_rest()


def nested_too_deeply(text: bytes) -> bool:
    """Whether the JSON text nests arrays and objects more than MAX_NESTING deep (brackets in strings do not count)."""
    if text.count(b"[") + text.count(b"{") <= MAX_NESTING:
        return False
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        byte = text[token.start()]
        if byte in _OPENERS:
            depth += 1
            if depth > MAX_NESTING:
                return True
        elif byte in _CLOSERS:
            depth -= 1
        elif byte == _QUOTE and token.end() - token.start() == 1:
            break  # a string that never ends: the parser will say so
    return False


class ArrayElements:
    """Cuts a JSON array's bytes into its elements' bytes, following only strings and brackets: an element longer than
    MAX_RECORD_BYTES or nested deeper than MAX_NESTING is refused (Unparsable) and skipped, never kept or parsed.
    Raises BrokenArray where the array around the elements is malformed; `json.loads` judges each element."""

    def __init__(self) -> None:
        self.depth = 0  # 1 inside the array, more inside an element
        self.closed = False  # the array's closing bracket has been read
        self.in_string = self.escaped = False  # a string runs on from the last piece (its last byte a backslash)
        self.element = bytearray()  # the unfinished element
        self.refused = False  # the unfinished element was refused: its bytes are dropped up to its end
        self.ended = 0  # elements ended so far
        self.start = 0  # where the unfinished element begins in the piece being read

    def feed(self, data: bytes) -> Iterator[bytes | Unparsable]:
        if self.closed:
            _nothing_after_the_array(data, 0)
            return
        self.start = 0  # where the unfinished element's bytes begin in `data`
        at = self._string_rest(data, 0) if self.in_string else 0
        while not self.in_string and not self.closed:
            if self.depth == 1 and MAX_NESTING >= _SHALLOW_LEVELS and (shallow := _SHALLOW_REST.match(data, at)):
                at = shallow.end()  # the rest of the element is whole and shallow: skipped in one step
            token = _JSON_TOKEN.search(data, at)
            if token is None:
                break
            at = token.end()
            yield from self._token(data, token.start(), at)
        if self.closed:
            _nothing_after_the_array(data, at)
        elif self.depth and not self.refused:
            self.element += memoryview(data)[self.start:]
            if len(self.element) > MAX_RECORD_BYTES:
                yield self._refuse(b"", f"the element is longer than {MAX_RECORD_BYTES} bytes")

    def _token(self, data: bytes, position: int, end: int) -> Iterator[bytes | Unparsable]:
        byte = data[position]
        if byte == _QUOTE and end - position == 1:  # a string that goes on into the next piece
            self.in_string = True
            self._string_rest(data, end)
        elif byte in _OPENERS:
            self.depth += 1
            if self.depth == 1:
                self.start = end
            elif self.depth > MAX_NESTING + 1 and not self.refused:
                reason = f"the record is nested more than {MAX_NESTING} levels deep"
                yield self._refuse(data[self.start:position], reason)
        elif byte in _CLOSERS and self.depth > 1:
            self.depth -= 1
        elif byte in _CLOSERS or (byte == _COMMA and self.depth == 1):
            element = self._end_element(data[self.start:position], last=byte != _COMMA)
            if element is not None:
                yield element  # even before a wrong bracket: what precedes it is read first, as ijson did
            if self.depth != 1 or byte == _CLOSE_OBJECT:
                raise BrokenArray("a closing bracket matches no opening one")
            self.start = end
            self.closed = byte != _COMMA
            self.depth = 0 if self.closed else 1

    def end(self) -> Iterator[bytes]:
        """Raises BrokenArray unless the array was closed (or the body ended inside an element already refused); first
        yields what the body ended inside of, for the caller to read what it can of it (a whole object, say)."""
        if self.closed or self.refused:
            return
        if self.depth and self.element.strip(b" \t\r\n"):
            yield bytes(self.element)
        raise BrokenArray("the body ended inside the array" if self.depth else "the body holds no JSON array")

    def _string_rest(self, data: bytes, at: int) -> int:
        """Where the running string ends in `data` (after its closing quote), or len(data) when it runs on."""
        body = _STRING_BODY.match(data, at + self.escaped)
        end = body.end() if body else len(data)
        if end < len(data) and data[end] == _QUOTE:
            self.in_string = self.escaped = False
            return end + 1
        self.escaped = end < len(data)  # a lone backslash ends the piece: it escapes the next piece's first byte
        return len(data)

    def _end_element(self, stretch: bytes, *, last: bool) -> bytes | Unparsable | None:
        refused, self.refused = self.refused, False
        self.ended += 1
        if refused:
            return None
        if len(self.element) + len(stretch) > MAX_RECORD_BYTES:
            refusal = self._refuse(stretch, f"the element is longer than {MAX_RECORD_BYTES} bytes")
            self.refused = False
            return refusal
        element = bytes(self.element) + stretch if self.element else stretch
        self.element = bytearray()
        if last and self.ended == 1 and not element.strip(b" \t\r\n"):
            return None  # an empty array
        return element

    def _refuse(self, stretch: bytes, reason: str) -> Unparsable:
        text = preview(bytes(self.element[:2000]) + stretch[:2000])
        self.element, self.refused = bytearray(), True
        return Unparsable(reason, text)


def _nothing_after_the_array(data: bytes, at: int) -> None:
    if data[at:].strip(b" \t\r\n"):
        raise BrokenArray("there is more after the end of the array")
