"""The payment service seen from the orders: start a payment, and trust only gateway events signed with the shared secret.

`SimulatedGateway` stands in for a real gateway in development, tests and the demo: it answers a payment with a signed
`succeeded` or `failed` event, or never answers at all, exactly as a gateway's webhook would.
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
    if not hmac.compare_digest(given, sign(body, secret)):
        raise BadSignature("X-Signature is not the HMAC-SHA256 of the body under the webhook secret")
    return PaymentEvent.model_validate_json(body)


class PaymentGateway(Protocol):
    name: str

    def start(self, order_id: str, payment_id: str, amount: Decimal, currency: str) -> dict: ...


class SimulatedGateway:
    name = "simulated"

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def start(self, order_id: str, payment_id: str, amount: Decimal, currency: str) -> dict:
        return {"payment_id": payment_id, "provider": self.name, "pay_url": f"/v1/payments/simulator/{order_id}"}

    def answer(self, order_id: str, payment_id: str, outcome: Outcome, amount: Decimal,
               event_id: str | None = None) -> tuple[bytes, str]:
        """The webhook body and `X-Signature` the gateway would send for this outcome."""
        body = json.dumps({"event_id": event_id or uuid.uuid4().hex, "payment_id": payment_id, "order_id": order_id,
                           "outcome": outcome, "amount": str(amount)}).encode()
        return body, sign(body, self.secret)
