"""Order rules, no I/O: pricing lines, choosing a warehouse per line, the status machine, and what a payment outcome does."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from inventory.service import Pick, fastest_stocked
from orders.events import EventType


class UnknownItems(Exception):
    def __init__(self, item_ids: list[str]) -> None:
        super().__init__(f"unknown items: {', '.join(item_ids)}")
        self.item_ids = item_ids


class MixedCurrencies(Exception):
    pass


class OutOfStock(Exception):
    def __init__(self, item_ids: list[str]) -> None:
        super().__init__(f"out of stock: {', '.join(item_ids)}")
        self.item_ids = item_ids


class NotDeliverable(Exception):
    def __init__(self, item_ids: list[str]) -> None:
        super().__init__(f"cannot be delivered: {', '.join(item_ids)}")
        self.item_ids = item_ids


class InvalidTransition(Exception):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"an order that is {status} cannot be {action}")
        self.status, self.action = status, action


class CartEmpty(Exception):
    """An order from the cart was asked for, and the cart has no lines."""


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different request."""


@dataclass(frozen=True)
class PricedLine:
    item_id: str
    seller_id: str
    title: str
    size_class: str
    quantity: int
    unit_price: Decimal
    currency: str


@dataclass(frozen=True)
class Quote:
    """What an order would be: its lines priced from the live items, where each size class can be delivered from
    ({size class: {warehouse_id: eta_hours}} for the pincode), and the fingerprint of the request."""

    lines: list[PricedLine]
    deliverable: dict[str, dict[str, float]]
    request_hash: str


@dataclass(frozen=True)
class PlannedLine:
    line: PricedLine
    pick: Pick
    eta_hours: float


def merged_quantities(lines: list[tuple[str, int]]) -> dict[str, int]:
    """The same item asked for twice is one line with both quantities."""
    merged: dict[str, int] = {}
    for item_id, quantity in lines:
        merged[item_id] = merged.get(item_id, 0) + quantity
    return merged


def request_hash(pincode: str, quantities: Mapping[str, int]) -> str:
    return hashlib.sha256(json.dumps([pincode, sorted(quantities.items())]).encode()).hexdigest()


def price_lines(quantities: Mapping[str, int], items: Mapping[str, dict]) -> list[PricedLine]:
    """Snapshot each line's price and title from the live items; every item must exist and share one currency."""
    unknown = [item_id for item_id in quantities if item_id not in items]
    if unknown:
        raise UnknownItems(unknown)
    lines = [PricedLine(item_id, items[item_id]["seller_id"], items[item_id]["title"], items[item_id]["size_class"],
                        quantity, Decimal(items[item_id]["price"]["amount"]), items[item_id]["price"]["currency"])
             for item_id, quantity in quantities.items()]
    if len({line.currency for line in lines}) > 1:
        raise MixedCurrencies("all lines of one order must be in one currency")
    return lines


def total(lines: list[PricedLine]) -> Decimal:
    return sum((line.unit_price * line.quantity for line in lines), Decimal(0))


def plan(lines: list[PricedLine], stock: Mapping[str, Mapping[str, int]],
         deliverable: Mapping[str, Mapping[str, float]]) -> list[PlannedLine]:
    """One warehouse per line: the fastest to the pincode among those with enough units available (`stock`: units
    available per item and warehouse, i.e. on hand and not yet reserved).
    A line no stocking warehouse can deliver is `NotDeliverable` (422); otherwise a line short of units is `OutOfStock`."""
    undeliverable, short, planned = [], [], []
    for line in lines:
        etas = deliverable.get(line.size_class, {})
        available = stock.get(line.item_id, {})
        reachable = {w: eta for w, eta in etas.items() if w in available}
        warehouse = fastest_stocked(available, reachable, line.quantity)
        if warehouse is not None:
            planned.append(PlannedLine(line, Pick(line.item_id, warehouse, line.quantity), reachable[warehouse]))
        elif available and not reachable:
            undeliverable.append(line.item_id)
        else:
            short.append(line.item_id)
    if undeliverable:
        raise NotDeliverable(undeliverable)
    if short:
        raise OutOfStock(short)
    return planned


Action = Literal["pay", "cancel", "ship", "deliver"]
TRANSITIONS: dict[tuple[str, str], str] = {
    ("CREATED", "pay"): "PLACED",
    ("CREATED", "cancel"): "CANCELLED",
    ("PLACED", "cancel"): "CANCELLED",
    ("PLACED", "ship"): "SHIPPED",
    ("SHIPPED", "deliver"): "DELIVERED",
}
ACTION_WORDS = {"pay": "paid", "cancel": "cancelled", "ship": "shipped", "deliver": "delivered"}
EVENT_TYPES: dict[str, EventType] = {"PLACED": "order_placed", "CANCELLED": "order_cancelled", "SHIPPED": "order_shipped",
               "DELIVERED": "order_delivered"}


def next_status(status: str, action: Action) -> str:
    try:
        return TRANSITIONS[status, action]
    except KeyError:
        raise InvalidTransition(status, ACTION_WORDS[action]) from None


PaymentStep = Literal["place", "cancel", "reinstate", "refund", "ignore", "already_reinstated", "already_refunded"]
Settled = Literal["reinstated", "refunded"] | None
"""What already became of a cancelled order's payment: a new order took it (reinstated), it is being given back
(refunded), or nothing yet (None)."""


def payment_step(status: str, cancel_reason: str | None, outcome: str, late_policy: str,
                 settled: Settled = None) -> PaymentStep:
    """What a gateway outcome does to an order in `status` (the design's three outcomes and the payment/expiry race).
    One payment settles a cancelled order once: a success repeated under a new event_id is answered with what the
    first one did (`settled`), never with a second order or with a refund beside a reinstated order."""
    if status == "CREATED":
        return "place" if outcome == "succeeded" else "cancel"
    if status == "CANCELLED" and outcome == "succeeded":
        if settled is not None:
            return "already_reinstated" if settled == "reinstated" else "already_refunded"
        # Paid after the window closed: take the money into a new order if policy allows, else give it back.
        timed_out = cancel_reason == "payment_timeout"
        return "reinstate" if timed_out and late_policy == "reinstate" else "refund"
    return "ignore"  # a repeated or contradictory answer for an order already settled changes nothing
