"""The `Shopper` and `Operator` dependencies other folders put on their routes, on a bare app (no services)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from identity.api import AuthConfig, Operator, Shopper, auth_config
from identity.service import issue_token
from infra.errors import install_error_handlers

pytestmark = pytest.mark.unit
SECRET = "a-test-secret-of-at-least-32-bytes!!"


@pytest.fixture(scope="module")
def guarded():
    app = FastAPI()
    install_error_handlers(app)
    app.dependency_overrides[auth_config] = lambda: AuthConfig(jwt_secret=SECRET, admin_key="the-admin-key",
                                                               token_minutes=5)

    @app.get("/shopper")
    async def shopper_only(user_id: Shopper) -> dict:
        return {"user_id": user_id}

    @app.get("/operations")
    async def operators_only(_: Operator) -> dict:
        return {"ok": True}

    return TestClient(app)


def test_shopper_dependency_gives_the_token_subject(guarded):
    token = issue_token("user-7", secret=SECRET, minutes=5, now=datetime.now(UTC))

    response = guarded.get("/shopper", headers={"Authorization": f"Bearer {token}"})

    assert response.json() == {"user_id": "user-7"}


def test_operator_with_the_admin_key_is_let_through(guarded):
    response = guarded.get("/operations", headers={"X-Admin-Key": "the-admin-key"})

    assert response.status_code == 200


@pytest.mark.parametrize("headers, error", [({}, "missing_admin_key"), ({"X-Admin-Key": "guess"}, "invalid_admin_key")])
def test_operator_without_the_right_admin_key_is_refused(guarded, headers, error):
    response = guarded.get("/operations", headers=headers)

    assert response.status_code == 401 and response.json()["error"] == error


def test_shopper_token_is_not_an_admin_key(guarded):
    token = issue_token("user-7", secret=SECRET, minutes=5, now=datetime.now(UTC))

    response = guarded.get("/operations", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
