"""HTTP routes of the orders: place (idempotent), read, cancel, ship, deliver, and the payment gateway's webhook."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, Field, ValidationError, model_validator

from identity.api import Operator, Shopper
from infra.errors import ApiError
from infra.paging import MAX_PAGE, BadCursor, decode_cursor, encode_cursor
from orders import service
from orders.flows import Checkout
from orders.payment_store import PaymentMismatch
from orders.payments import BadSignature, SimulatedGateway, verified_event
from orders.store import OrderNotFound
from orders.views import micros

router = APIRouter(tags=["orders"])
# Mounted by the app only when SHOP_PAYMENT_SIMULATOR is on (development): it lets a shopper pay their own order.
simulator_router = APIRouter(tags=["payment simulator (development)"])


class OrderLineRequest(BaseModel):
    item_id: str = Field(max_length=64)
    quantity: int = Field(ge=1, le=99)


class OrderRequest(BaseModel):
    pincode: str = Field(pattern=r"^\d{6}$")
    lines: list[OrderLineRequest] = Field(default_factory=list, max_length=50)
    from_cart: bool = False

    @model_validator(mode="after")
    def lines_or_cart(self) -> OrderRequest:
        if bool(self.lines) == self.from_cart:
            raise ValueError("give either `lines` or `from_cart: true`")
        return self


async def checkout(request: Request) -> Checkout:
    return request.app.state.stores.checkout


async def webhook_secret(request: Request) -> str | None:
    return request.app.state.stores.payment_webhook_secret


Orders = Annotated[Checkout, Depends(checkout)]


@router.post("/v1/orders", status_code=201)
async def place_order(body: OrderRequest, shopper: Shopper, orders: Orders, response: Response,
                      idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> dict:
    """Reserve every line (or none) and open the payment window; the same Idempotency-Key returns the same order."""
    if not idempotency_key:
        raise ApiError(400, "idempotency_key_required", "send an Idempotency-Key header, unique per order attempt")
    if body.from_cart:
        placing = orders.place_cart_order(shopper, idempotency_key, body.pincode)
    else:
        placing = orders.place_order(shopper, idempotency_key, body.pincode,
                                     [(line.item_id, line.quantity) for line in body.lines])
    order, replayed = await _placed(placing, body.pincode)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return order


async def _placed(placing: Awaitable[tuple[dict, bool]], pincode: str) -> tuple[dict, bool]:
    try:
        return await placing
    except service.CartEmpty:
        raise ApiError(422, "cart_empty", "the cart has no items to order") from None
    except service.UnknownItems as error:
        raise ApiError(404, "item_not_found", str(error), items=error.item_ids) from None
    except service.MixedCurrencies as error:
        raise ApiError(422, "mixed_currencies", str(error)) from None
    except service.NotDeliverable as error:
        raise ApiError(422, "not_deliverable", f"{error} to pincode {pincode}", items=error.item_ids) from None
    except service.OutOfStock as error:
        raise ApiError(409, "out_of_stock", str(error), items=error.item_ids) from None
    except service.IdempotencyKeyReused:
        raise ApiError(422, "idempotency_key_reused", "this Idempotency-Key was used for a different order") from None


MAX_MERGED_DEPTH = 2_000  # `page * size` of the merged list read from both stores; deeper pages take the cursor


@router.get("/v1/orders")
async def my_orders(shopper: Shopper, orders: Orders, page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
                    size: Annotated[int, Query(ge=1, le=100)] = 20,
                    cursor: Annotated[str | None, Query(max_length=200)] = None) -> dict:
    """The shopper's orders, live and archived together, newest first. `next` is the cursor of the following page
    (stable while orders move to the archive: no order is skipped or repeated); `page` counts from the newest."""
    if cursor is not None:
        try:
            below = decode_cursor("orders", cursor)
        except BadCursor as error:
            raise ApiError(422, "bad_cursor", str(error)) from None
        found = await orders.orders.for_user(shopper, size, below)
    elif page * size > MAX_MERGED_DEPTH:
        raise ApiError(422, "page_too_deep", f"page * size may be at most {MAX_MERGED_DEPTH}; follow `next` instead",
                       limit=MAX_MERGED_DEPTH)
    else:
        found = (await orders.orders.for_user(shopper, page * size))[(page - 1) * size:]
    last = found[-1] if len(found) == size else None
    return {"page": page if cursor is None else None, "size": size, "orders": found,
            "next": encode_cursor("orders", (micros(last), last["order_id"])) if last else None}


@router.get("/v1/orders/{order_id}")
async def get_order(order_id: str, shopper: Shopper, orders: Orders) -> dict:
    order = await orders.orders.get(order_id, user_id=shopper)
    if order is None:
        raise ApiError(404, "order_not_found", f"no order {order_id} of yours", order_id=order_id)
    return order


@router.post("/v1/orders/{order_id}/cancel")
async def cancel_order(order_id: str, shopper: Shopper, orders: Orders) -> dict:
    return await _transition(orders.cancel(order_id, user_id=shopper), order_id)


@router.post("/v1/orders/{order_id}/{action}")
async def operate_order(order_id: str, action: Literal["ship", "deliver"], _: Operator, orders: Orders) -> dict:
    """Operations move a paid order along."""
    return await _transition(orders.advance(order_id, action), order_id)


@router.post("/v1/operations/orders/{order_id}/cancel")
async def cancel_by_operations(order_id: str, _: Operator, orders: Orders) -> dict:
    """Operations cancel an order before it ships (stock released, a paid order refunded)."""
    return await _transition(orders.cancel(order_id, reason="operations"), order_id)


async def _transition(change, order_id: str) -> dict:
    try:
        return await change
    except OrderNotFound:
        raise ApiError(404, "order_not_found", f"no order {order_id} of yours", order_id=order_id) from None
    except service.InvalidTransition as error:
        raise ApiError(409, "invalid_transition", str(error), order_status=error.status) from None


@router.post("/v1/payments/webhook")
async def payment_webhook(request: Request, orders: Orders, secret: Annotated[str | None, Depends(webhook_secret)],
                          x_signature: Annotated[str | None, Header()] = None) -> dict:
    """Signed gateway events; each event_id is applied once, a replay answers what the first delivery did."""
    if secret is None:
        raise ApiError(503, "webhook_not_configured", "SHOP_PAYMENT_WEBHOOK_SECRET is not set")
    try:  # the raw body's signature is checked before the body is parsed
        event = verified_event(await request.body(), x_signature, secret)
    except BadSignature as error:
        raise ApiError(401, "bad_signature", str(error)) from None
    except ValidationError as error:
        raise ApiError(422, "invalid_event", str(error.errors()[0]["msg"])) from None
    try:
        step, order = await orders.settle_payment(event)
    except PaymentMismatch as error:
        raise ApiError(422, "payment_mismatch", str(error)) from None
    return {"event_id": event.event_id, "result": step, "order": order}


class SimulatedAnswer(BaseModel):
    outcome: Literal["succeeded", "failed", "never"]


@simulator_router.post("/v1/payments/simulator/{order_id}", responses={404: {"description": "not your order"}})
async def simulate_payment(order_id: str, body: SimulatedAnswer, shopper: Shopper, orders: Orders) -> dict:
    """Development gateway: answer the shopper's payment as a real gateway would (signed webhook), or never."""
    gateway = orders.gateway
    if not isinstance(gateway, SimulatedGateway):
        raise ApiError(404, "not_found", "the simulated gateway is not in use")
    order = await orders.orders.get(order_id, user_id=shopper)
    if order is None:
        raise ApiError(404, "order_not_found", f"no order {order_id} of yours", order_id=order_id)
    if body.outcome == "never":
        return {"order": order, "result": "no answer sent"}
    raw, signature = gateway.answer(order_id, order["payment"]["payment_id"], body.outcome, order["total"]["amount"])
    step, settled = await orders.settle_payment(verified_event(raw, signature, gateway.secret))
    return {"order": settled, "result": step}
