"""A shopper's orders: one order with its timeline and, while it awaits payment, the payment window counting down and
the development gateway's three answers; and the order history, live and archived orders in one list."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from storefront.cart_pages import signed_in
from storefront.session import SameOrigin, ShopperApi, require_shopper
from storefront.templates import PageRoute, problem, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
OUTCOMES = {"succeeded": "Pay (the gateway answers: succeeded)", "failed": "Decline (the gateway answers: failed)",
            "never": "Walk away (the gateway never answers)"}
NOTICES = {"succeeded": "The gateway answered: payment succeeded.", "failed": "The gateway answered: payment failed.",
           "never": "The gateway will not answer; the order is cancelled when the payment window closes.",
           "cancelled": "You cancelled the order."}
HISTORY_PAGE = 10


@router.get("/orders")
async def history(request: Request, api: ShopperApi) -> Response:
    require_shopper(request)
    cursor = request.query_params.get("cursor", "")[:200]
    params = {"size": HISTORY_PAGE, **({"cursor": cursor} if cursor else {})}
    found = signed_in(await api.get("/v1/orders", params=params))
    return render(request, "orders.html", found=found, status_code=200 if found.ok or found.status < 500 else 503)


@router.get("/orders/{order_id}")
async def order(request: Request, order_id: str, api: ShopperApi) -> Response:
    require_shopper(request)
    found = signed_in(await api.get(f"/v1/orders/{order_id}"))
    if found.status == 404:
        return problem(request, "You have no such order.", status_code=404, title="Order not found")
    if not found.ok:
        return problem(request, found.problem, status_code=503, title="Order not available")
    return render(request, "order.html", order=found.body, seconds_left=seconds_left(found.body), outcomes=OUTCOMES,
                  answering=True,
                  notice=NOTICES.get(request.query_params.get("notice", "")))


@router.get("/orders/{order_id}/payment")
async def payment_window(request: Request, order_id: str, api: ShopperApi) -> Response:
    """The time left to pay alone, which the order page polls each second (the rest of the page, its form included,
    stays put for keyboard users); once the order has left CREATED the page reloads (`HX-Refresh`) to show where it went."""
    require_shopper(request)
    found = signed_in(await api.get(f"/v1/orders/{order_id}"))
    if found.ok and found.body["status"] != "CREATED":
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return render(request, "countdown.html", order=found.body if found.ok else {"order_id": order_id},
                  seconds_left=seconds_left(found.body) if found.ok else 0, answering=found.ok)


@router.post("/orders/{order_id}/pay", dependencies=[SameOrigin])
async def answer_payment(request: Request, order_id: str, api: ShopperApi) -> Response:
    require_shopper(request)
    outcome = str((await request.form()).get("outcome", ""))
    if outcome not in OUTCOMES:
        return problem(request, "Choose one of the gateway's answers.", status_code=400, title="Payment")
    answered = signed_in(await api.post(f"/v1/payments/simulator/{order_id}", json={"outcome": outcome}))
    if answered.error == "not_found" or answered.status == 405:
        return problem(request, "This shop takes payments through its payment gateway; the development gateway is "
                                "switched off.", status_code=404, title="Payment")
    if not answered.ok:
        return problem(request, answered.problem, status_code=answered.status, title="Payment")
    return RedirectResponse(f"/orders/{order_id}?notice={outcome}", status_code=303)


@router.post("/orders/{order_id}/cancel", dependencies=[SameOrigin])
async def cancel(request: Request, order_id: str, api: ShopperApi) -> Response:
    require_shopper(request)
    cancelled = signed_in(await api.post(f"/v1/orders/{order_id}/cancel"))
    if not cancelled.ok:
        return problem(request, cancelled.problem, status_code=cancelled.status, title="Cancel order")
    return RedirectResponse(f"/orders/{order_id}?notice=cancelled", status_code=303)


def seconds_left(shown: dict) -> int:
    if shown.get("status") != "CREATED" or not shown.get("expires_at"):
        return 0
    closes = datetime.fromisoformat(shown["expires_at"])
    return max(int((closes - datetime.now(UTC)).total_seconds()), 0)
