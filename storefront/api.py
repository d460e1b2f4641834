"""The pages' router (shopper pages at `/`, seller pages at `/seller`, none of them in the OpenAPI document) and
their static files: the shop's stylesheet and the vendored front-end packages `./shop` copies from npm."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from storefront import account_pages, cart_pages, catalog_pages, order_pages, seller_pages, seller_stock_pages
from storefront.templates import HERE

router = APIRouter(include_in_schema=False)
for pages in (catalog_pages, account_pages, cart_pages, order_pages, seller_pages, seller_stock_pages):
    router.include_router(pages.router)

STATIC_PATH = "/static"
STATIC_FILES = HERE / "static"


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_FILES)
