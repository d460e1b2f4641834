"""What list endpoints share about pages: 1-based and bounded, so `(page - 1) * size` never overflows a store's
OFFSET; a caller past the last page gets an empty page, one past the bound a 422. Lists that span stores (live and
archived orders) page by an opaque cursor instead: the position of the last entry handed out."""

from __future__ import annotations

import base64
import binascii
import json

MAX_PAGE = 10_000
LATEST_MICROS = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z, the last moment a datetime holds

Position = tuple[int, str]
"""Where a page of a newest-first list stopped: its last entry's (time in microseconds, id); the next page is below."""


class BadCursor(ValueError):
    """A cursor this service did not hand out (or handed out for another list)."""


def encode_cursor(list_name: str, at: Position) -> str:
    raw = json.dumps([list_name, at[0], at[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(list_name: str, cursor: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, micros, order_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise BadCursor("the cursor is not one this list handed out") from None
    if name != list_name or not isinstance(micros, int) or not 0 <= micros <= LATEST_MICROS or not isinstance(order_id, str) or len(order_id) > 64:
        raise BadCursor("the cursor is not one this list handed out")
    return micros, order_id
