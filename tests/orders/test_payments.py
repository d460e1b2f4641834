"""Webhook signatures: only the shared secret's HMAC of the exact body is trusted."""

from __future__ import annotations

import pytest

from orders.payments import BadSignature, SimulatedGateway, verified_event

pytestmark = pytest.mark.unit


def test_a_signed_answer_verifies():
    body, signature = SimulatedGateway("s3cret").answer("o1", "p1", "succeeded", "10.00")

    event = verified_event(body, signature, "s3cret")

    assert (event.order_id, event.outcome, str(event.amount)) == ("o1", "succeeded", "10.00")


@pytest.mark.parametrize("tamper", [lambda b, s: (b.replace(b"succeeded", b"failed"), s),
                                    lambda b, s: (b, "0" * 64), lambda b, s: (b, None)])
def test_a_changed_body_or_wrong_signature_is_refused(tamper):
    body, signature = tamper(*SimulatedGateway("s3cret").answer("o1", "p1", "succeeded", "10.00"))

    with pytest.raises(BadSignature):
        verified_event(body, signature, "s3cret")
