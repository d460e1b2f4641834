"""Who hears about which order event, on which channels, and what the message says."""

from __future__ import annotations

import pytest

from notifications.service import Contact, enabled_channels, notifications_for
from tests.notifications.conftest import order_event

pytestmark = pytest.mark.unit

ASHA = Contact(email="asha@shopper.example", name="Asha")
BOTH = ("email", "log")


def sent_to(notifications) -> set[tuple[str, str]]:
    return {(n.recipient, n.channel) for n in notifications}


def test_a_placed_order_tells_the_shopper_by_email_and_log_and_each_seller_once_by_log():
    event = order_event("order_placed", user_id="u1")

    notifications = notifications_for(event, ASHA, BOTH)

    assert sent_to(notifications) == {("user:u1", "email"), ("user:u1", "log"), ("seller:s-a", "log"),
                                      ("seller:s-b", "log")}
    assert len(notifications) == 4
    assert all(n.event_id == event.event_id and n.order_id == event.order_id for n in notifications)


def test_the_shopper_email_goes_to_their_address_by_name():
    notifications = notifications_for(order_event(user_id="u1"), ASHA, BOTH)

    [email] = [n for n in notifications if n.channel == "email"]

    assert (email.address, email.name) == ("asha@shopper.example", "Asha")


def test_a_shopper_not_on_file_is_told_on_the_log_channel_only():
    notifications = notifications_for(order_event(user_id="u1"), None, BOTH)

    assert sent_to(notifications) == {("user:u1", "log"), ("seller:s-a", "log"), ("seller:s-b", "log")}


def test_an_order_being_created_tells_nobody():
    assert notifications_for(order_event("order_created"), ASHA, BOTH) == []


@pytest.mark.parametrize(("type", "subject"), [
    ("order_placed", "Your order 1a2b3c4d… is placed"),
    ("order_cancelled", "Your order 1a2b3c4d… is cancelled"),
    ("order_shipped", "Your order 1a2b3c4d… has shipped"),
    ("order_delivered", "Your order 1a2b3c4d… is delivered"),
    ("payment_refunded", "Your payment for order 1a2b3c4d… is refunded"),
])
def test_each_event_type_has_its_own_subject_for_the_shopper(type, subject):
    event = order_event(type, order_id="1a2b3c4d5e6f7a8b")

    notifications = notifications_for(event, ASHA, BOTH)

    assert {n.subject for n in notifications if n.recipient.startswith("user:")} == {subject}


def test_the_shopper_message_lists_every_line_and_the_total():
    [email] = [n for n in notifications_for(order_event(), ASHA, ("email",))]

    assert email.body.startswith("Hello Asha,")
    assert "2 x Cotton shirt @ INR 19.99 = INR 39.98" in email.body
    assert "1 x Desk lamp @ INR 45.00 = INR 45.00" in email.body
    assert "Total: INR 97.48" in email.body


def test_a_cancellation_says_why():
    event = order_event("order_cancelled", cancel_reason="payment_timeout")

    [email] = notifications_for(event, ASHA, ("email",))

    assert "no payment arrived within the payment window" in email.body


def test_an_unknown_cancel_reason_is_still_said_in_words():
    [email] = notifications_for(order_event("order_cancelled", cancel_reason="address_unreachable"), ASHA, ("email",))

    assert "address unreachable" in email.body


def test_a_seller_hears_only_about_their_own_lines():
    event = order_event("order_placed", order_id="1a2b3c4d5e6f7a8b")

    [seller_a] = [n for n in notifications_for(event, ASHA, BOTH) if n.recipient == "seller:s-a"]

    assert seller_a.subject == "Order 1a2b3c4d… is placed: 3 of your units"
    assert "Cotton shirt" in seller_a.body and "Linen scarf" in seller_a.body and "Desk lamp" not in seller_a.body
    assert "Your subtotal: INR 52.48" in seller_a.body


def test_with_only_email_enabled_sellers_and_unknown_shoppers_hear_nothing():
    assert sent_to(notifications_for(order_event(user_id="u1"), ASHA, ("email",))) == {("user:u1", "email")}
    assert notifications_for(order_event(user_id="u1"), None, ("email",)) == []


def test_enabled_channels_are_read_from_the_comma_separated_setting():
    assert enabled_channels(" email, log ,log") == ("email", "log")
    assert enabled_channels("log") == ("log",)
    assert enabled_channels("") == ()


def test_an_unknown_channel_is_a_configuration_error():
    with pytest.raises(ValueError, match="sms"):
        enabled_channels("email,sms")
