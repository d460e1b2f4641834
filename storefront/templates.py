"""Rendering: the Jinja2 templates with the shop's filters (money, delivery estimates, times), and the page route
that turns whatever goes wrong into a page that says so (never a stack trace or a blank page)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from storefront.session import SELLER_ID_COOKIE, SELLER_KEY_COOKIE, SHOPPER_COOKIE, ForeignForm, SignInNeeded, forget

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
log = logging.getLogger(__name__)


def money(value: dict | None) -> str:
    return f"{value['currency'] or ''} {value['amount']}".strip() if value else "-"


def eta(hours: float | None) -> str:
    if hours is None:
        return "no estimate"
    return f"in about {round(hours)} hours" if hours < 48 else f"in about {round(hours / 24)} days"


def when(moment: str | None) -> str:
    if not moment:
        return ""
    return datetime.fromisoformat(moment).strftime("%d %b %Y, %H:%M UTC")


TEMPLATES.env.filters.update(money=money, eta=eta, when=when)


def render(request: Request, name: str, *, status_code: int = 200, **context: Any) -> Response:
    shared = {"shopper_signed_in": bool(request.cookies.get(SHOPPER_COOKIE)),
              "seller_id": request.cookies.get(SELLER_ID_COOKIE) if request.cookies.get(SELLER_KEY_COOKIE) else None}
    return TEMPLATES.TemplateResponse(request, name, {**shared, **context}, status_code=status_code)


def problem(request: Request, message: str, *, status_code: int, title: str = "Something went wrong") -> Response:
    return render(request, "problem.html", status_code=status_code, title=title, message=message)


class PageRoute(APIRoute):
    """A page: a missing sign-in sends the visitor to sign in, and any failure is a page that says what happened."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded as needed:
                return sign_in_first(request, needed.seller)
            except ForeignForm:
                return problem(request, "This form was sent from another site, so it was ignored.", status_code=403,
                               title="Form refused")
            except RequestValidationError:
                return problem(request, "This address has something the page could not read.", status_code=400,
                               title="Page not found")
            except HTTPException as error:
                return problem(request, str(error.detail), status_code=error.status_code, title="Page not found")
            except Exception:
                log.exception("page %s failed", request.url.path)
                return problem(request, "The page could not be shown. Please try again in a moment.",
                               status_code=500)

        return page


def sign_in_first(request: Request, seller: bool) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = "/seller/signin" if seller else f"/signin?next={quote(here, safe='')}"
    response = RedirectResponse(target, status_code=303)
    forget(response, *((SELLER_ID_COOKIE, SELLER_KEY_COOKIE) if seller else (SHOPPER_COOKIE,)))
    return response
