"""Sign-up, sign-in and sign-out for shoppers: the forms post here, the API does the work, and the token it issues is
kept in an HttpOnly cookie."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from storefront.public_api import Answer, PublicApi
from storefront.session import SHOPPER_COOKIE, SameOrigin, ShopperApi, forget, remember
from storefront.templates import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SIGN_UP_FIELDS = ("email", "name", "default_pincode")


@router.get("/signup")
async def sign_up_form(request: Request) -> Response:
    return render(request, "signup.html", values={}, refused=None)


@router.post("/signup", dependencies=[SameOrigin])
async def sign_up(request: Request, api: ShopperApi) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in SIGN_UP_FIELDS}
    password = str(form.get("password", ""))
    created = await api.post("/v1/users", json={**values, "password": password})
    if not created.ok:
        return render(request, "signup.html", values=values, refused=created, status_code=_shown(created))
    return await _signed_in(request, api, values["email"], password, "/")


@router.get("/signin")
async def sign_in_form(request: Request) -> Response:
    return render(request, "signin.html", email="", next=_local(request.query_params.get("next")), refused=None)


@router.post("/signin", dependencies=[SameOrigin])
async def sign_in(request: Request, api: ShopperApi) -> Response:
    form = await request.form()
    email, target = str(form.get("email", "")).strip(), _local(str(form.get("next", "")))
    return await _signed_in(request, api, email, str(form.get("password", "")), target)


@router.post("/signout", dependencies=[SameOrigin])
async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    forget(response, SHOPPER_COOKIE)
    return response


async def _signed_in(request: Request, api: PublicApi, email: str, password: str, target: str) -> Response:
    token = await api.post("/v1/auth/token", data={"username": email, "password": password})
    if not token.ok:
        return render(request, "signin.html", email=email, next=target, refused=token, status_code=_shown(token))
    response = RedirectResponse(target, status_code=303)
    remember(response, request, SHOPPER_COOKIE, token.body["access_token"])
    return response


def _local(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never another host)."""
    return target if target and target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _shown(answer: Answer) -> int:
    return answer.status if 400 <= answer.status < 500 else 503
