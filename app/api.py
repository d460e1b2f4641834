"""The FastAPI application: its lifespan opens one `Stores` (see app/builder.py); routers come from each folder and
receive what they need through their own `Depends` providers, which read that `Stores`."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from analytics import api as reports_api
from app import health
from app.builder import open_stores
from archival import api as history_api
from cart import api as cart_api
from identity import api as identity_api
from inbound import api as inbound_api
from infra.body_limit import BodySizeLimit
from infra.errors import install_error_handlers
from infra.settings import Settings, get_settings
from inventory import api as inventory_api
from item_service import api as item_api
from logistics import api as logistics_api
from orders import api as orders_api
from recommendations import api as recommendations_api
from search import api as search_api
from storefront import api as storefront_api

ROUTERS = (inbound_api, item_api, search_api, logistics_api, identity_api, cart_api, inventory_api, orders_api,
           history_api, reports_api, recommendations_api)
# The seller feed streams its records (each capped, counted against SHOP_FEED_MAX_RECORDS) and gets a limit of its own.
SELLER_FEED_PATH = r"/v1/sellers/[^/]+/items"
SELLER_FEED_UPLOAD_PATH = r"/seller/feeds"  # the seller page's upload form, streamed on to the feed


def collect_less(young_threshold: int) -> None:
    """Fewer garbage collections in a process that allocates many short-lived objects per request: what is alive once
    the stores are open (modules, the app, clients and pools) lives as long as the process and is frozen out of every
    collection, and the youngest generation is collected every `young_threshold` allocations instead of every 700.
    On checkout this took the collector's share of the API's CPU from about 0.13 ms per order to none
    (`bench/README.md`)."""
    if young_threshold:
        gc.collect()
        gc.freeze()
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(young_threshold, older, oldest)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.refuse_unsafe()  # again: a copy made with `model_copy(update=...)` skipped the settings' validation

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_stores(settings, producers=True) as stores:
            app.state.stores = stores
            collect_less(settings.api_gc_young_threshold)
            yield

    app = FastAPI(title="shop", version="0.1.0", lifespan=lifespan,
                  description="Storefront search and checkout, seller feed, orders and history.")
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api_max_body_bytes,
                       larger=[(SELLER_FEED_PATH, settings.feed_max_body_bytes),
                               (SELLER_FEED_UPLOAD_PATH, settings.feed_max_body_bytes)])
    app.include_router(health.router)
    for folder_api in ROUTERS:
        app.include_router(folder_api.router)
    if settings.payment_simulator:  # development only (the settings refuse it elsewhere)
        app.include_router(orders_api.simulator_router)
    app.include_router(storefront_api.router)  # the pages, after the API: `/v1/...` never reaches a page route
    app.mount(storefront_api.STATIC_PATH, storefront_api.static_files(), name="static")
    return app
