"""The shopper's way in: the home page (recommendations or popular items, trending now), search, and the item page.
A part of the design that does not answer yet (recommendations, reports) is named on the page, with a fallback."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from storefront.public_api import Answer, PublicApi
from storefront.search_form import PINCODE, SORTS, page_count, read_form
from storefront.session import ShopperApi
from storefront.templates import PageRoute, problem, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SHELF = 8


@router.get("/")
async def home(request: Request, api: ShopperApi) -> Response:
    signed_in = "Authorization" in api.headers
    recommended = await api.get("/v1/recommendations", params={"limit": SHELF}) if signed_in else None
    trending = await api.get("/v1/reports/trending", params={"window": "1h", "kind": "bought", "limit": SHELF})
    newest = None if recommended is not None and recommended.ok else await newest_items(api)
    return render(request, "home.html", recommended=recommended, newest=newest, trending=trending)


async def newest_items(api: PublicApi) -> Answer:
    """Popular for now: the newest items in stock (until recommendations and reports answer)."""
    return await api.get("/v1/search", params={"sort": "newest", "size": SHELF})


@router.get("/search")
async def search(request: Request, api: ShopperApi) -> Response:
    default_pincode = await profile_pincode(api) if "pincode" not in request.query_params else ""
    form = read_form(list(request.query_params.multi_items()), default_pincode)
    found = await api.get("/v1/search", params=form.api_params())
    pages = page_count(found.body.get("total", 0)) if found.ok else 1
    return render(request, "search.html", form=form, found=found, sorts=SORTS, pages=pages,
                  pincode_problem=bool(form.pincode) and not form.valid_pincode, status_code=200)


@router.get("/items/{item_id}")
async def item(request: Request, item_id: str, api: ShopperApi) -> Response:
    found = await api.get(f"/v1/items/{item_id}")
    if found.status == 404:
        return problem(request, "There is no such item (it may have been removed).", status_code=404,
                       title="Item not found")
    if not found.ok:
        return problem(request, found.problem, status_code=503, title="Item not available")
    pincode = request.query_params.get("pincode", "").strip() or await profile_pincode(api)
    delivery = await api.get("/v1/serviceability", params={"item_id": item_id, "pincode": pincode}) \
        if PINCODE.match(pincode) else None
    similar = await api.get(f"/v1/items/{item_id}/similar", params={"limit": 6})
    return render(request, "item.html", item=found.body, stock=await api.get(f"/v1/inventory/{item_id}"),
                  pincode=pincode, delivery=delivery, similar=similar,
                  same_category=[] if similar.ok else await same_category(api, found.body))


async def same_category(api: PublicApi, shown: dict) -> list[dict]:
    """Items of the same category: what the item page offers while similar items are not available."""
    found = await api.get("/v1/search", params={"category": shown.get("category", ""), "size": 7, "sort": "newest"})
    return [hit for hit in found.body.get("items", []) if hit["item_id"] != shown["item_id"]][:6] if found.ok else []


async def profile_pincode(api: PublicApi) -> str:
    if "Authorization" not in api.headers:
        return ""
    profile = await api.get("/v1/users/me")
    return profile.body.get("default_pincode", "") if profile.ok else ""
