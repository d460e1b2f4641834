"""The seller's stock and orders pages: set the units on hand of an item per warehouse, and the seller's orders."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from storefront.public_api import Answer
from storefront.seller_pages import seller_answer
from storefront.session import SameOrigin, SellerApi, SellerId
from storefront.templates import PageRoute, render

router = APIRouter(prefix="/seller", route_class=PageRoute, include_in_schema=False)


@router.get("/stock")
async def stock(request: Request, seller_id: SellerId, api: SellerApi) -> Response:
    item_id = request.query_params.get("item_id", "").strip()[:64]
    picture = await api.get(f"/v1/inventory/{item_id}") if item_id else None
    return await _stock_page(request, api, item_id=item_id, picture=picture, refused=None, saved=False)


@router.post("/stock", dependencies=[SameOrigin])
async def set_stock(request: Request, seller_id: SellerId, api: SellerApi) -> Response:
    form = await request.form()
    item_id, warehouse_id = str(form.get("item_id", "")).strip()[:64], str(form.get("warehouse_id", "")).strip()
    quantity = str(form.get("quantity", "")).strip()
    if not quantity.isdigit():
        refused = Answer(422, {"detail": "The quantity is a whole number of units, 0 or more."})
        return await _stock_page(request, api, item_id=item_id, picture=None, refused=refused, saved=False)
    changed = seller_answer(await api.put(f"/v1/inventory/{item_id}/warehouses/{warehouse_id}",
                                          json={"quantity": int(quantity)}))
    return await _stock_page(request, api, item_id=item_id, picture=changed if changed.ok else None,
                             refused=None if changed.ok else changed, saved=changed.ok)


async def _stock_page(request: Request, api: SellerApi, *, item_id: str, picture: Answer | None,
                      refused: Answer | None, saved: bool) -> Response:
    warehouses = await api.get("/v1/warehouses")
    status = 200 if refused is None else refused.status if refused.status < 500 else 503
    return render(request, "seller/stock.html", item_id=item_id, picture=picture, refused=refused, saved=saved,
                  warehouses=warehouses.body if warehouses.ok else [], status_code=status)


@router.get("/orders")
async def orders(request: Request, seller_id: SellerId, api: SellerApi) -> Response:
    cursor = request.query_params.get("cursor", "")[:200]
    params = {"size": 20, **({"cursor": cursor} if cursor else {})}
    found = seller_answer(await api.get(f"/v1/history/sellers/{seller_id}/orders", params=params))
    return render(request, "seller/orders.html", found=found, status_code=200 if found.ok else 503)
