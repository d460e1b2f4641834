"""The FastAPI application: one lifespan opens the shared clients and builds each folder's store; routers come from each folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from infra import health
from infra.errors import install_error_handlers
from infra.resources import build_checkout, open_resources
from infra.schema.search_index import items_alias
from infra.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    from cart import api as cart_api
    from cart.store import CartStore
    from identity import api as identity_api
    from identity.store import UserStore
    from inbound import api as inbound_api
    from inbound.store import FeedStore
    from item_service import api as item_api
    from item_service.store import ItemStore
    from inventory import api as inventory_api
    from inventory.store import StockStore
    from orders import api as orders_api
    from search import api as search_api
    from search.serviceability import api as serviceability_api
    from search.serviceability.cache import DeliverabilityCache
    from search.serviceability.store import ServiceabilityStore
    from search.store import SearchIndex

    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings) as resources:
            app.state.resources = resources
            app.state.settings = settings
            app.state.item_store = ItemStore(resources.mongo[settings.mongo_database])
            app.state.search_index = SearchIndex(resources.elasticsearch, items_alias(settings.elasticsearch_index_prefix))
            app.state.feed_store = FeedStore(resources.mysql)
            app.state.serviceability = ServiceabilityStore(resources.redis)
            app.state.search_deliverability = DeliverabilityCache(app.state.serviceability,
                                                                  settings.search_deliverability_cache_seconds)
            app.state.producer = resources.producer
            app.state.analytics_producer = resources.analytics_producer
            app.state.stock = StockStore(resources.mysql)
            app.state.users = UserStore(resources.mysql, resources.redis, settings.profile_cache_seconds)
            app.state.cart_store = CartStore(resources.mysql)
            app.state.checkout = build_checkout(settings, resources.mysql, resources.redis, app.state.item_store,
                                                app.state.serviceability)
            yield

    app = FastAPI(title="shop", version="0.1.0", lifespan=lifespan,
                  description="Storefront search and checkout, seller feed, orders and history.")
    install_error_handlers(app)
    app.include_router(health.router)
    for folder_api in (inbound_api, item_api, search_api, serviceability_api, identity_api, cart_api, inventory_api, orders_api):
        app.include_router(folder_api.router)
    return app
