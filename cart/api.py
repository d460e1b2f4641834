"""HTTP routes of the shopper's own cart and wishlist; the shopper is always the one the bearer token names."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel

from cart.service import (
    MAX_QUANTITY,
    MIN_QUANTITY,
    InvalidQuantity,
    ItemNotFound,
    ListFull,
    NotInCart,
    NotInWishlist,
    UnknownShopper,
    check_quantity,
    priced_cart,
    wishlist_view,
)
from cart.store import CartStore
from identity.api import Shopper
from infra.errors import ApiError

router = APIRouter(prefix="/v1", tags=["cart and wishlist"])
ItemId = Annotated[str, Path(min_length=1, max_length=64)]


class Money(BaseModel):
    amount: str
    currency: str


class CartLineView(BaseModel):
    item_id: str
    quantity: int
    added_at: str
    available: bool  # false once the item was deleted from the catalog; it then has no price
    title: str | None
    unit_price: Money | None
    line_total: Money | None


class CartView(BaseModel):
    lines: list[CartLineView]
    item_count: int
    total: Money | None  # null only when the lines are in more than one currency; see `totals`
    totals: list[Money]


class WishlistEntry(BaseModel):
    item_id: str
    added_at: str
    available: bool
    title: str | None
    price: Money | None


class WishlistView(BaseModel):
    items: list[WishlistEntry]


class QuantityChange(BaseModel):
    quantity: int


async def cart_store(request: Request) -> CartStore:
    return request.app.state.stores.cart_store


async def item_store(request: Request):
    return request.app.state.stores.item_store


Carts = Annotated[CartStore, Depends(cart_store)]
Items = Annotated[Any, Depends(item_store)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "unknown or deleted item, or not in the list"}}


@router.get("/cart", response_model=CartView)
async def get_cart(user_id: Shopper, carts: Carts, items: Items) -> dict[str, Any]:
    return await _priced_cart(user_id, carts, items)


@router.put("/cart/items/{item_id}", response_model=CartView,
            responses={**NOT_FOUND, 409: {"description": "cart full"}, 422: {"description": "quantity out of range"}})
async def set_cart_quantity(item_id: ItemId, body: QuantityChange, user_id: Shopper, carts: Carts,
                            items: Items) -> dict[str, Any]:
    """Add the item with this quantity, or change the quantity it has."""
    with _refusals():
        check_quantity(body.quantity)
        await _existing(items, item_id)
        await carts.set_quantity(user_id, item_id, body.quantity)
    return await _priced_cart(user_id, carts, items)


@router.delete("/cart/items/{item_id}", response_model=CartView, responses=NOT_FOUND)
async def remove_from_cart(item_id: ItemId, user_id: Shopper, carts: Carts, items: Items) -> dict[str, Any]:
    with _refusals():
        await carts.remove(user_id, item_id)
    return await _priced_cart(user_id, carts, items)


@router.get("/wishlist", response_model=WishlistView)
async def get_wishlist(user_id: Shopper, carts: Carts, items: Items) -> dict[str, Any]:
    return await _shown_wishlist(user_id, carts, items)


@router.put("/wishlist/items/{item_id}", response_model=WishlistView,
            responses={**NOT_FOUND, 409: {"description": "wishlist full"}})
async def add_to_wishlist(item_id: ItemId, user_id: Shopper, carts: Carts, items: Items) -> dict[str, Any]:
    with _refusals():
        await _existing(items, item_id)
        await carts.wish(user_id, item_id)
    return await _shown_wishlist(user_id, carts, items)


@router.delete("/wishlist/items/{item_id}", response_model=WishlistView, responses=NOT_FOUND)
async def remove_from_wishlist(item_id: ItemId, user_id: Shopper, carts: Carts, items: Items) -> dict[str, Any]:
    with _refusals():
        await carts.unwish(user_id, item_id)
    return await _shown_wishlist(user_id, carts, items)


async def _existing(items, item_id: str) -> None:
    if await items.get(item_id) is None:
        raise ItemNotFound(item_id)


async def _priced_cart(user_id: str, carts: CartStore, items) -> dict[str, Any]:
    lines = await carts.lines(user_id)
    found = await items.get_many([line.item_id for line in lines]) if lines else []
    return priced_cart(lines, {item["item_id"]: item for item in found})


async def _shown_wishlist(user_id: str, carts: CartStore, items) -> dict[str, Any]:
    entries = await carts.wishlist(user_id)
    found = await items.get_many([entry.item_id for entry in entries]) if entries else []
    return wishlist_view(entries, {item["item_id"]: item for item in found})


@contextmanager
def _refusals() -> Iterator[None]:
    """Domain refusals as the API's errors."""
    try:
        yield
    except NotInCart as refusal:
        raise ApiError(404, "not_in_cart", f"item {refusal.item_id} is not in your cart", item_id=refusal.item_id)
    except NotInWishlist as refusal:
        raise ApiError(404, "not_in_wishlist", f"item {refusal.item_id} is not in your wishlist",
                       item_id=refusal.item_id)
    except ItemNotFound as refusal:
        raise ApiError(404, "item_not_found", f"no item {refusal.item_id}", item_id=refusal.item_id)
    except InvalidQuantity as refusal:
        raise ApiError(422, "invalid_quantity", str(refusal), min=MIN_QUANTITY, max=MAX_QUANTITY)
    except ListFull as refusal:
        raise ApiError(409, "too_many_items", f"{refusal}; remove some first", limit=refusal.limit)
    except UnknownShopper:
        raise ApiError(404, "user_not_found", "the token's shopper no longer exists; sign up again")
