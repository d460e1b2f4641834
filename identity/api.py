"""HTTP routes of shoppers: sign-up, OAuth2 password login, own profile; and the `Shopper` (bearer token) and
`Operator` (admin key) dependencies other folders put on their routes."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from identity.service import (
    EMAIL_PATTERN,
    MIN_PASSWORD_LENGTH,
    PINCODE_PATTERN,
    EmailTaken,
    InvalidToken,
    hash_password,
    issue_token,
    normalised_email,
    password_matches,
    printable_text,
    token_subject,
)
from identity.store import UserStore
from identity.throttle import HashingBusy, PasswordThrottle, TooManyAttempts
from infra.errors import ApiError

router = APIRouter(prefix="/v1", tags=["shoppers"])
TOKEN_PATH = "/v1/auth/token"

# Names and e-mail addresses go into e-mail headers: no line breaks, tabs, control or invisible formatting characters.
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(printable_text)]
Email = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN), AfterValidator(printable_text)]
Pincode = Annotated[str, Field(pattern=PINCODE_PATTERN, examples=["560001"])]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)]


class SignUp(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    email: Email
    name: Name
    password: Password
    default_pincode: Pincode


class ProfileChange(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: Name | None = None
    default_pincode: Pincode | None = None
    password: Password | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ProfileChange:
        if nulls := sorted(name for name in self.model_fields_set if getattr(self, name) is None):
            raise ValueError(f"{', '.join(nulls)} may not be null; leave a field out to keep it")
        return self


class Profile(BaseModel):
    user_id: str
    email: str
    name: str
    default_pincode: str | None
    created_at: str
    updated_at: str


class AccessToken(BaseModel):
    access_token: str
    token_type: str = "bearer"


@dataclass(frozen=True)
class AuthConfig:
    """How shoppers and operators prove who they are; a missing secret disables what it guards."""

    jwt_secret: str | None
    admin_key: str | None
    token_minutes: int


async def users(request: Request) -> UserStore:
    return request.app.state.stores.users


async def auth_config(request: Request) -> AuthConfig:
    return request.app.state.stores.auth


async def password_throttle(request: Request) -> PasswordThrottle:
    return request.app.state.stores.password_throttle


Throttle = Annotated[PasswordThrottle, Depends(password_throttle)]
T = TypeVar("T")
# 429 for both (the contract's errors are 4xx): the caller can act on either by retrying after Retry-After seconds.
THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {"description": "`too_many_attempts` in this window, or password hashing `busy`; retry after Retry-After"}}


async def throttled(step: Awaitable[T]) -> T:
    """`step` (an attempt counted, a password hashed) or the 429 with Retry-After that the throttle asks for."""
    try:
        return await step
    except TooManyAttempts as refusal:
        raise ApiError(429, "too_many_attempts", str(refusal), headers={"Retry-After": str(refusal.retry_after)})
    except HashingBusy as busy:
        raise ApiError(429, "busy", str(busy), headers={"Retry-After": str(busy.retry_after)})


def client_address(request: Request) -> str:
    """The caller's address (uvicorn takes it from X-Forwarded-For only when the peer is a trusted proxy)."""
    return request.client.host if request.client else "unknown"


Auth = Annotated[AuthConfig, Depends(auth_config)]


async def jwt_secret(auth: Auth) -> str:
    if auth.jwt_secret is None:
        raise ApiError(503, "not_configured", "SHOP_JWT_SECRET is not set; shopper tokens are unavailable")
    return auth.jwt_secret


Users = Annotated[UserStore, Depends(users)]
Secret = Annotated[str, Depends(jwt_secret)]
bearer_token = OAuth2PasswordBearer(tokenUrl=TOKEN_PATH, auto_error=False)
admin_key_header = APIKeyHeader(name="X-Admin-Key", auto_error=False)


async def current_shopper(token: Annotated[str | None, Depends(bearer_token)], secret: Secret) -> str:
    """The user_id of the shopper whose bearer token came with the request."""
    if not token:
        raise ApiError(401, "invalid_token", "send `Authorization: Bearer <token>` from POST /v1/auth/token",
                       headers={"WWW-Authenticate": "Bearer"})
    try:
        return token_subject(token, secret=secret)
    except InvalidToken as refusal:
        raise ApiError(401, "invalid_token", f"{refusal}; log in again at {TOKEN_PATH}",
                       headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{refusal}"'})


async def require_operator(auth: Auth, key: Annotated[str | None, Depends(admin_key_header)]) -> None:
    """Lets the request through only with the operations admin key in `X-Admin-Key`."""
    expected = auth.admin_key
    if expected is None:
        raise ApiError(401, "invalid_admin_key", "SHOP_ADMIN_KEY is not set; operations are disabled")
    if not key:
        raise ApiError(401, "missing_admin_key", "send the operations admin key in the X-Admin-Key header")
    if not secrets.compare_digest(key.encode(), expected.encode()):
        raise ApiError(401, "invalid_admin_key", "the X-Admin-Key is not the operations admin key")


async def shopper_or_operator(auth: Auth, token: Annotated[str | None, Depends(bearer_token)],
                              key: Annotated[str | None, Depends(admin_key_header)]) -> str | None:
    """For what a shopper may see of their own and operations of anyone's: None with the admin key in `X-Admin-Key`,
    else the bearer token's shopper (401 with neither)."""
    if key:
        await require_operator(auth, key)
        return None
    return await current_shopper(token, await jwt_secret(auth))


Shopper = Annotated[str, Depends(current_shopper)]
Operator = Annotated[None, Depends(require_operator)]
ShopperOrOperator = Annotated[str | None, Depends(shopper_or_operator)]

# Declared by hand: the form is parsed from the urlencoded body without a multipart parser.
TOKEN_FORM = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "required": ["username", "password"],
    "properties": {"grant_type": {"type": "string", "enum": ["password"]},
                   "username": {"type": "string", "description": "the shopper's e-mail"},
                   "password": {"type": "string", "format": "password"}}}}}}}


async def password_form(request: Request) -> tuple[str, str]:
    """(username, password) from an OAuth2 password grant form."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    username, password = form.get("username", [""])[0], form.get("password", [""])[0]
    if form.get("grant_type", ["password"])[0] != "password":
        raise ApiError(400, "unsupported_grant_type", "only grant_type=password is supported")
    if not username or not password:
        raise ApiError(422, "invalid_request", "send username (the e-mail) and password as a urlencoded form")
    return username, password


@router.post("/users", status_code=201, response_model=Profile,
             responses={409: {"description": "e-mail taken"}, **THROTTLED})
async def sign_up(body: SignUp, store: Users, throttle: Throttle, request: Request) -> dict[str, Any]:
    email = normalised_email(body.email)
    await throttled(throttle.attempt(client_address(request)))
    password_hash = await throttled(throttle.hashed(hash_password, body.password))
    try:
        return await store.create(email=email, name=body.name, password_hash=password_hash,
                                  default_pincode=body.default_pincode)
    except EmailTaken:
        raise ApiError(409, "email_taken", f"a shopper with e-mail {email} exists; log in instead", email=email)


@router.post("/auth/token", response_model=AccessToken, openapi_extra=TOKEN_FORM,
             responses={401: {"description": "wrong e-mail or password"}, **THROTTLED})
async def log_in(form: Annotated[tuple[str, str], Depends(password_form)], store: Users, secret: Secret,
                 auth: Auth, throttle: Throttle, request: Request) -> dict[str, str]:
    username, password = form
    await throttled(throttle.attempt(client_address(request), normalised_email(username)))
    found = await store.credentials(normalised_email(username))
    # An unknown e-mail spends the same hashing time as a wrong password.
    matched = await throttled(throttle.hashed(password_matches, password, found[1] if found else None))
    if found is None or not matched:
        raise ApiError(401, "invalid_credentials", "wrong e-mail or password", headers={"WWW-Authenticate": "Bearer"})
    return {"access_token": issue_token(found[0], secret=secret, minutes=auth.token_minutes, now=datetime.now(UTC)),
            "token_type": "bearer"}


@router.get("/users/me", response_model=Profile)
async def my_profile(user_id: Shopper, store: Users) -> dict[str, Any]:
    return _found(await store.profile(user_id), user_id)


@router.patch("/users/me", response_model=Profile, responses=THROTTLED)
async def change_my_profile(body: ProfileChange, user_id: Shopper, store: Users, throttle: Throttle) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    if "password" in changes:
        changes["password_hash"] = await throttled(throttle.hashed(hash_password, changes.pop("password")))
    return _found(await store.update(user_id, changes), user_id)


def _found(profile: dict[str, Any] | None, user_id: str) -> dict[str, Any]:
    if profile is None:
        raise ApiError(404, "user_not_found", f"no shopper {user_id}; sign up again", user_id=user_id)
    return profile
