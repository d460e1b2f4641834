"""The cart and wishlist rules: quantity bounds, size limits, which event a change is, and pricing a cart from the
items' current prices. No I/O: the caller passes the stored lines and the items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cart.events import CartEventType

MIN_QUANTITY, MAX_QUANTITY = 1, 99
MAX_CART_LINES = 100
MAX_WISHLIST_ITEMS = 500
DEFAULT_CURRENCY = "INR"  # the currency an empty cart's zero total is shown in


class ItemNotFound(Exception):
    def __init__(self, item_id: str) -> None:
        super().__init__(f"no item {item_id}")
        self.item_id = item_id


class NotInCart(ItemNotFound):
    pass


class NotInWishlist(ItemNotFound):
    pass


class UnknownShopper(Exception):
    """A valid token for a shopper the database does not hold (any more)."""


class InvalidQuantity(Exception):
    def __init__(self, quantity: int) -> None:
        super().__init__(f"quantity must be {MIN_QUANTITY} to {MAX_QUANTITY}, got {quantity}")
        self.quantity = quantity


class ListFull(Exception):
    """The cart or wishlist already holds as many different items as it may."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} different items")
        self.limit = limit


@dataclass(frozen=True)
class Line:
    item_id: str
    quantity: int  # 1 for a wishlist entry
    added_at: datetime  # naive UTC, as stored


def check_quantity(quantity: int) -> None:
    if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
        raise InvalidQuantity(quantity)


def check_room(held: int, limit: int) -> None:
    """Before adding a new item to a cart or wishlist that holds `held` different items."""
    if held >= limit:
        raise ListFull(limit)


def cart_change(previous: int, quantity: int) -> CartEventType | None:
    """What setting a line from `previous` (0: absent) to `quantity` (0: removed) is; None when nothing changes."""
    if previous == quantity:
        return None
    if quantity == 0:
        return "item_removed"
    return "item_added" if previous == 0 else "quantity_changed"


def priced_cart(lines: list[Line], items: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The cart with each line at its item's current price; lines whose item is gone are shown unavailable and
    left out of the totals. `total` is null when the available lines are in more than one currency."""
    shown: list[dict[str, Any]] = []
    sums: dict[str, Decimal] = {}
    for line in lines:
        item = items.get(line.item_id)
        entry = {"item_id": line.item_id, "quantity": line.quantity, "added_at": rfc3339(line.added_at),
                 "available": item is not None, "title": None, "unit_price": None, "line_total": None}
        if item is not None:
            unit = Decimal(item["price"]["amount"])
            currency = item["price"]["currency"]
            entry.update(title=item["title"], unit_price=money(unit, currency),
                         line_total=money(unit * line.quantity, currency))
            sums[currency] = sums.get(currency, Decimal(0)) + unit * line.quantity
        shown.append(entry)
    totals = [money(amount, currency) for currency, amount in sums.items()]
    total = totals[0] if len(totals) == 1 else (money(Decimal("0.00"), DEFAULT_CURRENCY) if not totals else None)
    return {"lines": shown, "item_count": sum(line.quantity for line in lines), "total": total, "totals": totals}


def wishlist_view(entries: list[Line], items: dict[str, dict[str, Any]]) -> dict[str, Any]:
    shown = []
    for entry in entries:
        item = items.get(entry.item_id)
        shown.append({"item_id": entry.item_id, "added_at": rfc3339(entry.added_at), "available": item is not None,
                      "title": item["title"] if item else None, "price": dict(item["price"]) if item else None})
    return {"items": shown}


def money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": format(amount, "f"), "currency": currency}


def rfc3339(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
