"""The FastAPI application: one lifespan opens the shared clients; each folder contributes its router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from infra import health
from infra.resources import open_resources
from infra.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings) as resources:
            app.state.resources = resources
            yield

    app = FastAPI(title="shop", version="0.1.0", lifespan=lifespan,
                  description="Storefront search and checkout, seller feed, orders and history.")
    app.include_router(health.router)
    return app
