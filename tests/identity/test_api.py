"""Shopper sign-up, login and own profile through the API on the real MySQL and Redis."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from identity.service import issue_token
from identity.store import profile_key
from tests.conftest import sign_up
from tests.identity.conftest import bearer, log_in, new_shopper, served

pytestmark = pytest.mark.stack


def test_sign_up_returns_the_profile_without_the_password(client):
    body = new_shopper(email=f"  Mixed.Case-{uuid.uuid4().hex[:12]}@Example.COM ")

    response = client.post("/v1/users", json=body)

    assert response.status_code == 201
    profile = response.json()
    assert profile["email"] == body["email"].strip().lower() and profile["name"] == "Asha Rao"
    assert profile["default_pincode"] == "560001" and len(profile["user_id"]) == 32
    assert not {"password", "password_hash"} & set(profile)


def test_second_sign_up_with_the_same_email_is_a_conflict(client):
    body = new_shopper()
    client.post("/v1/users", json=body)

    response = client.post("/v1/users", json={**body, "email": body["email"].upper(), "name": "Someone else"})

    assert response.status_code == 409 and response.json()["error"] == "email_taken"


@pytest.mark.parametrize("field, value", [("password", "short"), ("default_pincode", "5600"),
                                          ("default_pincode", "56000a"), ("email", "not-an-email")])
def test_sign_up_with_an_invalid_field_is_refused(client, field, value):
    response = client.post("/v1/users", json=new_shopper(**{field: value}))

    assert response.status_code == 422 and response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("name", ["Asha\nRao", "Asha\u2028Rao"], ids=["newline", "line-separator"])
def test_a_name_with_a_newline_is_refused(client, name):
    response = client.post("/v1/users", json=new_shopper(name=name))

    assert response.status_code == 422 and response.json()["error"] == "invalid_request"
    [error] = response.json()["errors"]
    assert error["loc"] == ["body", "name"] and f"U+{ord(name[4]):04X}" in error["msg"]


@pytest.mark.parametrize("name", ["Asha\rRao", "Asha\tRao", "Asha\x00Rao", "Asha\x85Rao", "Asha\u2029Rao",
                                  "Asha \u202eoaR", "Asha\u200bRao"])
def test_a_name_change_with_a_control_or_invisible_character_is_refused(client, name):
    shopper = sign_up(client)

    response = client.patch("/v1/users/me", headers=shopper.headers, json={"name": name})

    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["body", "name"]
    assert client.get("/v1/users/me", headers=shopper.headers).json()["name"] == "Test Shopper"


@pytest.mark.parametrize("name", ["आशा राव", "علی\u200cزاده", "José Ñandú-O'Brien", "山田\u3000花子"])
def test_a_name_in_any_script_with_its_joiners_is_accepted(client, name):
    response = client.post("/v1/users", json=new_shopper(name=name))

    assert response.status_code == 201 and response.json()["name"] == name


@pytest.mark.parametrize("email", ["asha,victim@example.com", "asha<victim@example.com", 'asha"@example.com',
                                   "asha(x)@example.com", "asha;x@example.com", "asha:x@example.com",
                                   "asha\\x@example.com", "asha\x00@example.com", "asha@example.com\x1c",
                                   "asha\u202e@example.com"])
def test_an_email_that_could_break_a_header_or_name_another_mailbox_is_refused(client, email):
    response = client.post("/v1/users", json=new_shopper(email=email))

    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["body", "email"]


def test_logged_in_shopper_reads_their_own_profile(client):
    body = new_shopper()
    user_id = client.post("/v1/users", json=body).json()["user_id"]

    token = log_in(client, body["email"].upper())
    me = client.get("/v1/users/me", headers=bearer(token.json()["access_token"]))

    assert token.status_code == 200 and token.json()["token_type"] == "bearer"
    assert me.status_code == 200 and me.json()["user_id"] == user_id


def test_wrong_password_is_refused(client):
    body = new_shopper()
    client.post("/v1/users", json=body)

    response = log_in(client, body["email"], "wrong password")

    assert response.status_code == 401 and response.json()["error"] == "invalid_credentials"


def test_unknown_email_is_refused_like_a_wrong_password(client):
    response = log_in(client, new_shopper()["email"])

    assert response.status_code == 401 and response.json()["error"] == "invalid_credentials"


def test_request_without_a_token_is_refused_with_a_bearer_challenge(client):
    response = client.get("/v1/users/me")

    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    assert response.headers["www-authenticate"] == "Bearer"


def test_garbage_token_is_refused(client):
    response = client.get("/v1/users/me", headers=bearer("garbage.token.here"))

    assert response.status_code == 401 and response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_expired_token_is_refused(client, settings):
    shopper = sign_up(client)
    expired = issue_token(shopper.user_id, secret=settings.jwt_secret.get_secret_value(), minutes=1,
                          now=datetime.now(UTC) - timedelta(minutes=5))

    response = client.get("/v1/users/me", headers=bearer(expired))

    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_shopper_changes_name_and_default_pincode(client):
    shopper = sign_up(client)

    response = client.patch("/v1/users/me", headers=shopper.headers,
                            json={"name": "Asha R", "default_pincode": "110001"})

    assert response.status_code == 200
    assert response.json()["name"] == "Asha R" and response.json()["default_pincode"] == "110001"
    assert client.get("/v1/users/me", headers=shopper.headers).json()["name"] == "Asha R"


def test_changed_password_replaces_the_old_one(client):
    shopper = sign_up(client)

    client.patch("/v1/users/me", headers=shopper.headers, json={"password": "a brand new secret"})

    assert log_in(client, shopper.email).status_code == 401
    assert log_in(client, shopper.email, "a brand new secret").status_code == 200


def test_email_cannot_be_changed_through_the_profile(client):
    shopper = sign_up(client)

    response = client.patch("/v1/users/me", headers=shopper.headers, json={"email": "someone@example.com"})

    assert response.status_code == 422


async def test_profile_is_cached_in_redis_and_the_cache_follows_an_update(client, redis, settings):
    shopper = sign_up(client)
    client.get("/v1/users/me", headers=shopper.headers)
    key = profile_key(shopper.user_id)
    cached, ttl = json.loads(await redis.get(key)), await redis.ttl(key)

    client.patch("/v1/users/me", headers=shopper.headers, json={"name": "Renamed"})

    assert cached["name"] == "Test Shopper" and 0 < ttl <= settings.profile_cache_seconds
    assert json.loads(await redis.get(key))["name"] == "Renamed"
    assert client.get("/v1/users/me", headers=shopper.headers).json()["name"] == "Renamed"


async def test_sign_ups_beyond_the_hashing_slots_and_their_queue_get_429_busy_with_retry_after(settings):
    async with served(settings, password_hash_concurrency=1, password_hash_queue=1) as http:

        responses = await asyncio.gather(*(http.post("/v1/users", json=new_shopper()) for _ in range(6)))

    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) >= 2 and 429 in codes, codes
    busy = next(r for r in responses if r.status_code == 429)
    assert busy.json()["error"] == "busy" and int(busy.headers["retry-after"]) >= 1


async def test_sign_ups_and_logins_from_one_address_are_limited_per_window(settings):
    window = settings.auth_rate_window_seconds  # fixed windows: the four attempts must not straddle two of them
    if window - time.time() % window < 20:
        await asyncio.sleep(window - time.time() % window)
    async with served(settings, auth_attempts_per_address=3) as http:
        body = new_shopper()

        allowed = [await http.post("/v1/users", json=body),
                   await http.post("/v1/auth/token", data={"username": body["email"], "password": body["password"]}),
                   await http.post("/v1/users", json=new_shopper())]
        refused = await http.post("/v1/auth/token", data={"username": body["email"], "password": body["password"]})

    assert [r.status_code for r in allowed] == [201, 200, 201]
    assert refused.status_code == 429 and refused.json()["error"] == "too_many_attempts"
    assert 1 <= int(refused.headers["retry-after"]) <= settings.auth_rate_window_seconds


def test_logins_to_one_email_are_limited_per_window_whatever_the_password(client, settings):
    body = new_shopper()
    client.post("/v1/users", json=body)

    wrong = [log_in(client, body["email"], "wrong password") for _ in range(settings.login_attempts_per_email)]
    right = log_in(client, body["email"])

    assert {r.status_code for r in wrong} == {401}
    assert right.status_code == 429 and right.json()["error"] == "too_many_attempts"
    assert int(right.headers["retry-after"]) >= 1
