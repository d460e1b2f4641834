"""The e-mail channel against a real SMTP server (aiosmtpd), and the log channel's one structured line."""

from __future__ import annotations

import json
import logging

import aiosmtplib
import pytest

from notifications.channels import email_channel, log_channel
from notifications.service import Contact, Undeliverable, notifications_for
from tests.notifications.conftest import REFUSED_DOMAIN, free_port, order_event

pytestmark = pytest.mark.stack

SENDER = "orders@shop.localhost"


def shopper_email(contact: Contact, **event_fields):
    return next(n for n in notifications_for(order_event(**event_fields), contact, ("email",)))


async def test_an_email_reaches_the_smtp_server_with_subject_sender_and_body(smtp_server):
    notification = shopper_email(Contact("meera@shopper.example", "Meera"), order_id="feedbeef00112233")

    await email_channel("127.0.0.1", smtp_server.port, SENDER)(notification)

    [message] = smtp_server.to("meera@shopper.example")
    assert message["Subject"] == "Your order feedbeef… is placed"
    assert message["From"] == SENDER and message["To"] == "Meera <meera@shopper.example>"
    assert "Total: INR 97.48" in message.get_content()
    assert message["Message-ID"] == f"<{notification.event_id}.{notification.recipient.replace(':', '-')}@shop.localhost>"


async def test_a_mailbox_the_server_refuses_for_good_is_undeliverable(smtp_server):
    notification = shopper_email(Contact(f"ghost@{REFUSED_DOMAIN}", "Ghost"))

    with pytest.raises(Undeliverable, match="550"):
        await email_channel("127.0.0.1", smtp_server.port, SENDER)(notification)


async def test_an_smtp_server_that_is_away_is_a_retryable_error_not_a_refusal():
    notification = shopper_email(Contact("meera@shopper.example", "Meera"))

    with pytest.raises(aiosmtplib.SMTPConnectError):
        await email_channel("127.0.0.1", free_port(), SENDER)(notification)


async def test_the_log_channel_writes_one_json_line_per_notification(caplog):
    caplog.set_level(logging.INFO, logger="notifications.sent")
    [notification] = [n for n in notifications_for(order_event(), None, ("log",)) if n.recipient == "seller:s-b"]

    await log_channel()(notification)

    [line] = [record.getMessage() for record in caplog.records if record.name == "notifications.sent"]
    logged = json.loads(line.removeprefix("notification "))
    assert logged == {"event_id": notification.event_id, "order_id": notification.order_id,
                      "event_type": "order_placed", "recipient": "seller:s-b", "subject": notification.subject}
