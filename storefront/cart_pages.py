"""The cart page and its forms (add, change a quantity, remove) and checkout, which places the order from the cart
under an Idempotency-Key rendered into the form, so a form sent twice places one order."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from storefront.catalog_pages import profile_pincode
from storefront.public_api import Answer
from storefront.session import SameOrigin, ShopperApi, SignInNeeded, require_shopper
from storefront.templates import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
NOTICES = {"added": "Added to your cart.", "updated": "Quantity changed.", "removed": "Removed from your cart."}


def signed_in(answer: Answer) -> Answer:
    """The answer, unless the API no longer knows the shopper's token (then the shopper signs in again)."""
    if answer.status == 401:
        raise SignInNeeded()
    return answer


@router.get("/cart")
async def cart(request: Request, api: ShopperApi) -> Response:
    require_shopper(request)
    return await _cart_page(request, api, refused=None, pincode=await profile_pincode(api))


async def _cart_page(request: Request, api: ShopperApi, *, refused: Answer | None, pincode: str) -> Response:
    shown = signed_in(await api.get("/v1/cart"))
    notice = NOTICES.get(request.query_params.get("notice", ""))
    status = refused.status if refused is not None and refused.status < 500 else 200 if shown.ok else 503
    return render(request, "cart.html", cart=shown, refused=refused, notice=notice, pincode=pincode,
                  checkout_key=uuid.uuid4().hex, status_code=status)


@router.post("/cart/items", dependencies=[SameOrigin])
async def add_to_cart(request: Request, api: ShopperApi) -> Response:
    require_shopper(request)
    form = await request.form()
    return await _change(request, api, str(form.get("item_id", "")), str(form.get("quantity", "1")), "added")


@router.post("/cart/items/{item_id}", dependencies=[SameOrigin])
async def change_quantity(request: Request, item_id: str, api: ShopperApi) -> Response:
    require_shopper(request)
    form = await request.form()
    return await _change(request, api, item_id, str(form.get("quantity", "1")), "updated")


@router.post("/cart/items/{item_id}/remove", dependencies=[SameOrigin])
async def remove(request: Request, item_id: str, api: ShopperApi) -> Response:
    require_shopper(request)
    removed = signed_in(await api.delete(f"/v1/cart/items/{item_id}"))
    if not removed.ok:
        return await _cart_page(request, api, refused=removed, pincode=await profile_pincode(api))
    return RedirectResponse("/cart?notice=removed", status_code=303)


async def _change(request: Request, api: ShopperApi, item_id: str, quantity: str, notice: str) -> Response:
    amount = int(quantity) if quantity.strip().isdigit() else 0
    changed = signed_in(await api.put(f"/v1/cart/items/{item_id}", json={"quantity": amount}))
    if not changed.ok:
        return await _cart_page(request, api, refused=changed, pincode=await profile_pincode(api))
    return RedirectResponse(f"/cart?notice={notice}", status_code=303)


@router.post("/checkout", dependencies=[SameOrigin])
async def checkout(request: Request, api: ShopperApi) -> Response:
    require_shopper(request)
    form = await request.form()
    pincode, key = str(form.get("pincode", "")).strip(), str(form.get("checkout_key", "")) or uuid.uuid4().hex
    placed = signed_in(await api.post("/v1/orders", json={"pincode": pincode, "from_cart": True},
                                      headers={"Idempotency-Key": key[:64]}))
    if not placed.ok:
        return await _cart_page(request, api, refused=placed, pincode=pincode)
    return RedirectResponse(f"/orders/{placed.body['order_id']}", status_code=303)
