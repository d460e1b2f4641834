"""The seller's pages: sign in with the seller id and API key, upload a feed file and watch its records' verdicts
fill in, set stock per warehouse, and see the seller's own orders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import PurePath

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile

from storefront.public_api import Answer
from storefront.session import (
    SELLER_ID_COOKIE,
    SELLER_KEY_COOKIE,
    SameOrigin,
    SellerApi,
    SellerId,
    SignInNeeded,
    forget,
    remember,
)
from storefront.templates import PageRoute, problem, render

router = APIRouter(prefix="/seller", route_class=PageRoute, include_in_schema=False)
FEED_TYPES = {".csv": "text/csv", ".ndjson": "application/x-ndjson", ".jsonl": "application/x-ndjson",
              ".json": "application/json"}
SETTLED = ("rejected", "applied", "dead_lettered")  # an `accepted` record is still on its way
CHUNK = 64 * 1024


def seller_answer(answer: Answer) -> Answer:
    if answer.status == 401:
        raise SignInNeeded(seller=True)
    return answer


@router.get("")
async def dashboard(request: Request, seller_id: SellerId, api: SellerApi) -> Response:
    return render(request, "seller/dashboard.html", refused=None, kinds=", ".join(FEED_TYPES))


@router.get("/signin")
async def sign_in_form(request: Request) -> Response:
    return render(request, "seller/signin.html", seller_id="", refused=None)


@router.post("/signin", dependencies=[SameOrigin])
async def sign_in(request: Request, api: SellerApi) -> Response:
    form = await request.form()
    seller_id, key = str(form.get("seller_id", "")).strip(), str(form.get("api_key", "")).strip()
    # Any seller route tells a known key from an unknown one; reading a feed that does not exist changes nothing.
    checked = await api.get(f"/v1/sellers/{seller_id}/feeds/-", headers={"X-Api-Key": key})
    if checked.status != 404 or checked.error != "feed_not_found":
        return render(request, "seller/signin.html", seller_id=seller_id, refused=checked,
                      status_code=checked.status if 400 <= checked.status < 500 and checked.status != 404 else 401)
    response = RedirectResponse("/seller", status_code=303)
    remember(response, request, SELLER_ID_COOKIE, seller_id)
    remember(response, request, SELLER_KEY_COOKIE, key)
    return response


@router.post("/signout", dependencies=[SameOrigin])
async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/seller/signin", status_code=303)
    forget(response, SELLER_ID_COOKIE, SELLER_KEY_COOKIE)
    return response


@router.post("/feeds", dependencies=[SameOrigin])
async def upload_feed(request: Request, seller_id: SellerId, api: SellerApi) -> Response:
    upload = (await request.form()).get("feed")
    kind = FEED_TYPES.get(PurePath(upload.filename or "").suffix.lower()) if isinstance(upload, UploadFile) else None
    if not isinstance(upload, UploadFile) or kind is None:
        return render(request, "seller/dashboard.html", kinds=", ".join(FEED_TYPES), status_code=400,
                      refused=Answer(400, {"detail": f"Choose a feed file ending in {', '.join(FEED_TYPES)}."}))
    sent = seller_answer(await api.post(f"/v1/sellers/{seller_id}/items", content=_chunks(upload),
                                        headers={"Content-Type": kind}))
    if not sent.ok:
        return render(request, "seller/dashboard.html", kinds=", ".join(FEED_TYPES), refused=sent,
                      status_code=sent.status if sent.status < 500 else 503)
    return RedirectResponse(f"/seller/feeds/{sent.body['feed_id']}", status_code=303)


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


@router.get("/feeds/{feed_id}")
async def feed(request: Request, feed_id: str, seller_id: SellerId, api: SellerApi) -> Response:
    return await _feed(request, feed_id, seller_id, api, "seller/feed.html")


@router.get("/feeds/{feed_id}/verdicts")
async def verdicts(request: Request, feed_id: str, seller_id: SellerId, api: SellerApi) -> Response:
    """The verdicts alone, which the feed page polls until every record has settled."""
    return await _feed(request, feed_id, seller_id, api, "seller/verdicts.html")


async def _feed(request: Request, feed_id: str, seller_id: str, api: SellerApi, template: str) -> Response:
    shown = seller_answer(await api.get(f"/v1/sellers/{seller_id}/feeds/{feed_id}", params={"size": 1000}))
    if not shown.ok:
        return problem(request, shown.problem, status_code=shown.status, title="Feed not available")
    settling = shown.body["state"] == "receiving" or shown.body["counts"].get("accepted", 0) > 0
    return render(request, template, feed=shown.body, settling=settling)
