"""The payment service seen from the orders: start a payment, and trust only gateway events signed with the shared secret.

`ExternalGateway` is a real gateway reached outside this service: the shopper pays there and its signed webhook reports the
outcome. `SimulatedGateway` stands in for one in development, tests and the demo (`SHOP_PAYMENT_SIMULATOR`): it answers a
payment with a signed `succeeded` or `failed` event, or never answers at all, exactly as a gateway's webhook would.
Refunds go the other way: the orders ask the gateway to pay back (`refund`), and its answer completes or fails them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from decimal import Decimal
from typing import Literal, Protocol

from pydantic import BaseModel

Outcome = Literal["succeeded", "failed"]
RefundOutcome = Literal["completed", "failed"]


class PaymentEvent(BaseModel):
    event_id: str
    payment_id: str
    order_id: str
    outcome: Outcome
    amount: Decimal


class BadSignature(Exception):
    pass


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verified_event(body: bytes, signature: str | None, secret: str) -> PaymentEvent:
    """The event in `body` if `signature` is its HMAC-SHA256 under the secret (compared in constant time)."""
    given = (signature or "").removeprefix("sha256=")
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError), and any header is latin-1.
    if not hmac.compare_digest(given.encode("latin-1", "replace"), sign(body, secret).encode()):
        raise BadSignature("X-Signature is not the HMAC-SHA256 of the body under the webhook secret")
    return PaymentEvent.model_validate_json(body)


class GatewayUnavailable(Exception):
    """The gateway gave no answer (unreachable, timed out, or not wired for this call); ask again later."""


class PaymentGateway(Protocol):
    name: str

    def start(self, order_id: str, payment_id: str, amount: Decimal, currency: str) -> dict: ...

    async def refund(self, payment_id: str, amount: Decimal, currency: str) -> RefundOutcome:
        """Pay `amount` of the payment back. The payment_id is the request's idempotency key (one refund per
        payment), so asking again after a crash never pays twice. GatewayUnavailable when there is no answer."""
        ...


class ExternalGateway:
    """A gateway outside this service: the order hands out only the `payment_id` the gateway's webhook will name."""

    name = "external"

    def start(self, order_id: str, payment_id: str, amount: Decimal, currency: str) -> dict:
        return {"payment_id": payment_id, "provider": self.name}

    async def refund(self, payment_id: str, amount: Decimal, currency: str) -> RefundOutcome:
        # No refund client for a real gateway is wired yet: refunds stay pending for whoever connects one (or settles
        # them in the gateway's dashboard).
        raise GatewayUnavailable("refunds through the external gateway are not wired")


class SimulatedGateway:
    name = "simulated"

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def start(self, order_id: str, payment_id: str, amount: Decimal, currency: str) -> dict:
        return {"payment_id": payment_id, "provider": self.name, "pay_url": f"/v1/payments/simulator/{order_id}"}

    async def refund(self, payment_id: str, amount: Decimal, currency: str) -> RefundOutcome:
        """The simulated gateway pays every refund back at once."""
        return "completed"

    def answer(self, order_id: str, payment_id: str, outcome: Outcome, amount: Decimal,
               event_id: str | None = None) -> tuple[bytes, str]:
        """The webhook body and `X-Signature` the gateway would send for this outcome."""
        body = json.dumps({"event_id": event_id or uuid.uuid4().hex, "payment_id": payment_id, "order_id": order_id,
                           "outcome": outcome, "amount": str(amount)}).encode()
        return body, sign(body, self.secret)
