"""Rules of the archive, no I/O: where an archived order's rows go (a shopper's year, a seller's month), what a seller
may see of an order, and how long `SHOP_ARCHIVE_AFTER` is."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from infra.paging import Position
from orders.views import micros as created_us

__all__ = ["Position", "created_us", "month_of", "parse_duration", "position", "seller_view", "sellers_of", "year_of"]


def position(doc: dict) -> Position:
    return created_us(doc), doc["order_id"]


def year_of(micros: int) -> int:
    return datetime.fromtimestamp(micros / 1e6, UTC).year


def month_of(micros: int) -> int:
    """yyyymm: a seller's partition of the archive."""
    moment = datetime.fromtimestamp(micros / 1e6, UTC)
    return moment.year * 100 + moment.month


def sellers_of(doc: dict) -> list[str]:
    return sorted({line["seller_id"] for line in doc["lines"]})


def seller_view(doc: dict, seller_id: str) -> dict:
    """What a seller may see of an order: its own lines and their subtotal, the status and timeline; never another
    seller's lines, the order's total, the shopper or where it goes."""
    lines = [line for line in doc["lines"] if line["seller_id"] == seller_id]
    currency = doc["total"]["currency"]
    subtotal = sum((Decimal(line["unit_price"]["amount"]) * line["quantity"] for line in lines), Decimal(0))
    return {"order_id": doc["order_id"], "status": doc["status"], "cancel_reason": doc["cancel_reason"],
            "created_at": doc["created_at"], "timeline": doc["timeline"], "lines": lines,
            "subtotal": {"amount": f"{subtotal:.2f}", "currency": currency}}


DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`, `45s`, `2w`, or seconds (`3600`); `0` means no wait at all."""
    match = DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (say e.g. 30d, 12h, 90m or seconds)")
    return timedelta(seconds=int(match[1]) * UNITS[match[2]])
