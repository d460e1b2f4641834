"""HTTP routes of the order history (the archive): one archived order, a shopper's archived orders and a seller's view
of its archived orders, newest first, paged by an opaque cursor. Live and archived orders together are `GET /v1/orders`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from archival.archive import OrderArchive
from archival.model import position
from identity.api import ShopperOrOperator
from inbound.api import Seller
from infra.errors import ApiError
from infra.paging import BadCursor, Position, decode_cursor, encode_cursor

router = APIRouter(tags=["order history"])
Id = Annotated[str, Path(max_length=64)]
Size = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=200, description="`next` of the previous page")]


async def order_archive(request: Request) -> OrderArchive:
    return request.app.state.stores.order_archive


Archive = Annotated[OrderArchive, Depends(order_archive)]


@router.get("/v1/history/orders/{order_id}")
async def archived_order(order_id: Id, caller: ShopperOrOperator, archive: Archive) -> dict:
    """An archived order: its shopper's, or anyone's for operations (404 for any other caller: no hint it exists)."""
    order = await archive.get(order_id)
    if order is None or (caller is not None and order["user_id"] != caller):
        raise ApiError(404, "order_not_found", f"no archived order {order_id} of yours", order_id=order_id)
    return order


@router.get("/v1/history/users/{user_id}/orders")
async def archived_orders_of_user(user_id: Id, caller: ShopperOrOperator, archive: Archive, size: Size = 20,
                                  cursor: Cursor = None) -> dict:
    """A shopper's archived orders, newest first: that shopper's own, or anyone's for operations."""
    if caller is not None and caller != user_id:
        raise ApiError(403, "not_your_orders", "a shopper sees only their own order history", user_id=user_id)
    found = await archive.for_user(user_id, _below(f"user:{user_id}", cursor), size)
    return _page(f"user:{user_id}", found, size)


@router.get("/v1/history/sellers/{seller_id}/orders")
async def archived_orders_of_seller(seller_id: Seller, archive: Archive, size: Size = 20, cursor: Cursor = None) -> dict:
    """The seller's archived orders, newest first, each with only the seller's own lines (and their subtotal)."""
    found = await archive.for_seller(seller_id, _below(f"seller:{seller_id}", cursor), size)
    return _page(f"seller:{seller_id}", found, size)


def _below(list_name: str, cursor: str | None) -> Position | None:
    if cursor is None:
        return None
    try:
        return decode_cursor(list_name, cursor)
    except BadCursor as error:
        raise ApiError(422, "bad_cursor", str(error)) from None


def _page(list_name: str, orders: list[dict], size: int) -> dict:
    last = orders[-1] if len(orders) == size else None
    return {"orders": orders, "next": encode_cursor(list_name, position(last)) if last else None}
