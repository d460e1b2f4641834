"""Who hears about which order event, on which channels, and what the message says; which failures are worth retrying."""

from __future__ import annotations

from email.errors import HeaderParseError, InvalidHeaderDefect, NonASCIILocalPartDefect

import aiosmtplib
import pytest
from sqlalchemy import exc as sql

from notifications.service import (
    Contact,
    Undeliverable,
    enabled_channels,
    notifications_for,
    refusal_reason,
    retrying_can_help,
)
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


def mysql_error(kind: type[sql.DBAPIError], code: int, message: str) -> sql.DBAPIError:
    return kind("INSERT INTO notifications ...", None, Exception(code, message))


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "Connection refused"), ConnectionResetError(104, "Connection reset by peer"),
    TimeoutError(), OSError(101, "Network is unreachable"),
    aiosmtplib.SMTPConnectError("Error connecting to 127.0.0.1 on port 8025"),
    aiosmtplib.SMTPServerDisconnected("Unexpected EOF received"), aiosmtplib.SMTPReadTimeoutError("Timed out"),
    aiosmtplib.SMTPRecipientRefused(450, "4.2.1 mailbox busy", "asha@shopper.example"),
    aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(451, "4.3.0 try later", "asha@shopper.example")]),
    aiosmtplib.SMTPDataError(421, "4.3.2 shutting down"),
    aiosmtplib.SMTPSenderRefused(553, "5.7.1 sender not allowed", "orders@shop.localhost"),
    aiosmtplib.SMTPConnectResponseError(554, "5.3.2 no service here"),
    aiosmtplib.SMTPHeloError(501, "5.5.4 bad HELO"),
    mysql_error(sql.OperationalError, 2013, "Lost connection to server during query"),
    mysql_error(sql.OperationalError, 2003, "Can't connect to MySQL server"),
    mysql_error(sql.OperationalError, 1205, "Lock wait timeout exceeded"),
    mysql_error(sql.OperationalError, 1213, "Deadlock found when trying to get lock"),
    mysql_error(sql.InterfaceError, 0, "connection closed"),
    sql.TimeoutError("QueuePool limit of size 20 overflow 20 reached"),
], ids=lambda error: type(error).__name__)
def test_a_server_away_slow_busy_or_misconfigured_is_worth_retrying(error):
    assert retrying_can_help(error)


@pytest.mark.parametrize("error", [
    ValueError("Header values may not contain linefeed or carriage return characters"),
    ValueError("invalid arguments; address parts cannot contain CR or LF"),
    HeaderParseError("expected addr-spec"), InvalidHeaderDefect("addr-spec local part with no domain"),
    NonASCIILocalPartDefect("local-part contains non-ASCII characters"),
    UnicodeEncodeError("ascii", "ä", 0, 1, "ordinal not in range(128)"),
    Undeliverable("e-mail refused: 550 5.1.1 no such mailbox"),
    aiosmtplib.SMTPRecipientRefused(550, "5.1.1 no such mailbox", "ghost@refused.example"),
    aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "5.1.1 no", "ghost@refused.example")]),
    aiosmtplib.SMTPDataError(554, "5.6.0 message refused"),
    aiosmtplib.SMTPNotSupported("SMTPUTF8 is not supported by this server"),
    mysql_error(sql.DataError, 1406, "Data too long for column 'recipient'"),
    mysql_error(sql.IntegrityError, 1062, "Duplicate entry"),
    TypeError("unsupported operand type(s)"),
], ids=lambda error: type(error).__name__)
def test_what_retrying_cannot_fix_is_not_retried(error):
    assert not retrying_can_help(error)


def test_a_refusal_says_what_was_refused():
    assert refusal_reason(Undeliverable("e-mail refused: 550 no such mailbox")) == "e-mail refused: 550 no such mailbox"
    assert refusal_reason(ValueError("Header values may not contain linefeed")) == (
        "ValueError: Header values may not contain linefeed")
    assert refusal_reason(aiosmtplib.SMTPDataError(554, "5.6.0 refused")) == "SMTPDataError: 554 5.6.0 refused"
