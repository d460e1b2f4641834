"""Builders for the shopper tests: the app under test, a Redis client to look at the profile cache, sign-up bodies."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from infra import connections


def new_shopper(**fields: Any) -> dict[str, Any]:
    """A valid sign-up body with a unique e-mail; keyword arguments override fields."""
    return {"email": f"shopper-{uuid.uuid4().hex[:12]}@example.com", "name": "Asha Rao",
            "password": "correct horse battery", "default_pincode": "560001", **fields}


def log_in(client, email: str, password: str = "correct horse battery"):
    return client.post("/v1/auth/token", data={"username": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as api:
        yield api


@pytest.fixture(scope="session")
async def redis(settings) -> AsyncIterator:
    client = connections.redis(settings)
    yield client
    await client.aclose()


@asynccontextmanager
async def served(settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app with some settings changed, served in-process to a client at an address of its own (so no other test,
    nor a parallel run on the same stack, counts against its sign-up and login windows)."""
    app = create_app(settings.model_copy(update=changes))
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.test", timeout=60) as http:
            yield http
