"""Who is using the pages: the shopper's token and the seller's key live in HttpOnly, SameSite cookies (never in
the page), and a form posted from another site is refused (its Origin names another host)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from storefront.public_api import PublicApi, in_process_client

SHOPPER_COOKIE = "shop_shopper"
SELLER_ID_COOKIE = "shop_seller_id"
SELLER_KEY_COOKIE = "shop_seller_key"
PINCODE_COOKIE = "shop_pincode"
COOKIE_SECONDS = 7 * 24 * 3600


class SignInNeeded(Exception):
    """The page needs a signed-in shopper (or seller, `seller=True`) and has none, or the token ran out."""

    def __init__(self, *, seller: bool = False) -> None:
        super().__init__("sign in first")
        self.seller = seller


class ForeignForm(Exception):
    """A form posted from another site."""


def remember(response: Response, request: Request, name: str, value: str, *, seconds: int = COOKIE_SECONDS) -> None:
    response.set_cookie(name, value, max_age=seconds, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https")


def forget(response: Response, *names: str) -> None:
    for name in names:
        response.delete_cookie(name, path="/")


async def same_origin(request: Request) -> None:
    """Refuses a form another site posted: SameSite=Lax already keeps our cookies off it, this refuses it outright."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise ForeignForm()
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise ForeignForm()


async def shopper_api(request: Request) -> AsyncIterator[PublicApi]:
    """The public API as the visiting shopper (anonymous when signed out)."""
    async with in_process_client(request) as http:
        yield PublicApi(http, token=request.cookies.get(SHOPPER_COOKIE))


async def seller_api(request: Request) -> AsyncIterator[PublicApi]:
    """The public API with the signed-in seller's key; pages that need a seller raise `SignInNeeded` without one."""
    async with in_process_client(request) as http:
        yield PublicApi(http, api_key=request.cookies.get(SELLER_KEY_COOKIE))


def signed_in_seller(request: Request) -> str:
    seller_id = request.cookies.get(SELLER_ID_COOKIE)
    if not seller_id or not request.cookies.get(SELLER_KEY_COOKIE):
        raise SignInNeeded(seller=True)
    return seller_id


def require_shopper(request: Request) -> None:
    if not request.cookies.get(SHOPPER_COOKIE):
        raise SignInNeeded()


ShopperApi = Annotated[PublicApi, Depends(shopper_api)]
SellerApi = Annotated[PublicApi, Depends(seller_api)]
SellerId = Annotated[str, Depends(signed_in_seller)]
SameOrigin = Depends(same_origin)
