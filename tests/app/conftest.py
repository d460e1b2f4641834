"""Builders for the app-wide tests: the app with some settings changed, served in-process over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from app.api import create_app


@asynccontextmanager
async def served(settings, **changes: Any) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """(client, app) of the app built with `changes` to the settings, for the length of the block."""
    app = create_app(settings.model_copy(update=changes))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.test", timeout=60) as http:
            yield http, app


async def chunks(total: int, size: int = 1000) -> AsyncIterator[bytes]:
    """`total` bytes of a JSON-ish body in chunks, sent without a Content-Length."""
    for start in range(0, total, size):
        yield b" " * min(size, total - start)
