"""The order flows: each is one MySQL transaction in `OrderStore` or `PaymentStore`, with the reads it needs (items,
serviceability: before the transaction, or inside it once an order from the cart has read the cart), followed by the
payment window in Redis. The API and the worker's agents call these and nothing below them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Protocol

from orders import service
from orders.payment_store import PaymentStore
from orders.payments import GatewayUnavailable, PaymentEvent, PaymentGateway
from orders.store import DuplicateIdempotencyKey, NewOrder, OrderStore
from orders.windows import PaymentWindows


class ItemLookup(Protocol):
    """What checkout needs of the item store (item_service's `ItemStore`)."""

    async def get_many(self, ids: list[str]) -> list[dict]: ...


class Deliverability(Protocol):
    """What checkout needs of logistics (`ServiceabilityStore`): size class -> {warehouse_id: eta_hours}."""

    async def deliverable_from(self, pincode: str) -> dict[str, dict[str, float]]: ...


@dataclass
class Checkout:
    orders: OrderStore
    payments: PaymentStore
    windows: PaymentWindows
    items: ItemLookup
    serviceability: Deliverability
    gateway: PaymentGateway
    window_seconds: int
    late_policy: str

    async def place_order(self, user_id: str, idempotency_key: str, pincode: str,
                          lines: list[tuple[str, int]]) -> tuple[dict, bool]:
        """The new order with its payment, or the one this key already created (second value True)."""
        new = NewOrder(user_id, idempotency_key, pincode, self.window_seconds)
        return await self._opened(self.orders.place(new, await self._quote(pincode, lines)))

    async def place_cart_order(self, user_id: str, idempotency_key: str, pincode: str) -> tuple[dict, bool]:
        """`place_order` with the shopper's cart, which empties with the order; `CartEmpty` when there is nothing."""
        new = NewOrder(user_id, idempotency_key, pincode, self.window_seconds)
        return await self._opened(self.orders.place_from_cart(new, partial(self._quote, pincode)))

    async def settle_payment(self, event: PaymentEvent) -> tuple[str, dict | None]:
        step, order = await self.payments.settle_payment(event, self.late_policy)
        await self.windows.close([event.order_id])  # its expiry would only find a settled order
        if order is None:  # an archived order: MySQL keeps only its header
            order = await self.orders.get(event.order_id)
        return step, order

    async def cancel(self, order_id: str, *, user_id: str | None = None, reason: str = "customer") -> dict | None:
        order = await self.orders.transition(order_id, "cancel", user_id=user_id, reason=reason)
        await self.windows.close([order_id])
        return order

    async def advance(self, order_id: str, action: service.Action) -> dict | None:
        return await self.orders.transition(order_id, action)

    async def expire_due(self, limit: int, order_ids: list[str] | None = None) -> list[dict]:
        """Cancel unpaid orders past their deadline (the sweeper: all; the Redis listener: the ones it heard of)."""
        cancelled = await self.orders.cancel_due(limit, order_ids)
        await self.windows.close([order["order_id"] for order in cancelled])
        return cancelled

    async def settle_refunds(self, limit: int, payment_ids: Sequence[str] | None = None) -> dict[str, int]:
        """Ask the gateway to pay back each pending refund (all, or those of `payment_ids`) and record its answer;
        returns how many were completed, failed, or left pending because the gateway did not answer (`unanswered`,
        asked again next time; the payment_id keys the request, so asking twice never pays twice)."""
        settled: Counter[str] = Counter()
        for pending in await self.payments.pending_refunds(limit, payment_ids):
            try:
                outcome = await self.gateway.refund(pending["payment_id"], pending["amount"], pending["currency"])
            except GatewayUnavailable:
                settled["unanswered"] += 1
                continue
            await self.payments.record_refund(pending["payment_id"], outcome)
            settled[outcome] += 1
        return dict(settled)

    async def _quote(self, pincode: str, lines: list[tuple[str, int]]) -> service.Quote:
        """Prices from the live items and deliverability to the pincode (for a cart: inside the order's transaction)."""
        quantities = service.merged_quantities(lines)
        found = {item["item_id"]: item for item in await self.items.get_many(list(quantities))}
        priced = service.price_lines(quantities, found)
        return service.Quote(priced, await self.serviceability.deliverable_from(pincode),
                             service.request_hash(pincode, quantities))

    async def _opened(self, placing: Awaitable[dict]) -> tuple[dict, bool]:
        """The placed order with its payment window open, or the order its key already made (second value True)."""
        try:
            order = await placing
        except DuplicateIdempotencyKey as duplicate:
            order = {k: v for k, v in duplicate.order.items() if k != "request_hash"}
            if order["status"] == "CREATED" and _deadline(order) > _utc_now():
                # The first attempt may have committed and then failed to open the window (Redis away): a retry
                # opens it, so the expiry fast path still hears of the order (opening twice changes nothing).
                await self.windows.open(order["order_id"], _deadline(order))
            return self._with_payment(order), True
        await self.windows.open(order["order_id"], _deadline(order))
        return self._with_payment(order), False

    def _with_payment(self, order: dict) -> dict:
        amount = order["total"]
        order["payment"] = self.gateway.start(order["order_id"], order["payment"]["payment_id"], amount["amount"],
                                              amount["currency"])
        return order


def _deadline(order: dict) -> datetime:
    return datetime.fromisoformat(order["expires_at"]).replace(tzinfo=None)


def _utc_now() -> datetime:
    """UTC without tzinfo, as `_deadline` gives it."""
    return datetime.now(UTC).replace(tzinfo=None)
