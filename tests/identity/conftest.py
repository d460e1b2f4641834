"""Builders for the shopper tests: the app under test, a Redis client to look at the profile cache, sign-up bodies."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

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
