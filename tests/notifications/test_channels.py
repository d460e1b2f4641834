"""The e-mail channel against a real SMTP server (aiosmtpd): what it sends, what it refuses for good (Undeliverable)
and what is worth retrying; and the log channel's one structured line."""

from __future__ import annotations

import json
import logging

import aiosmtplib
import pytest

from notifications.channels import email_channel, log_channel
from notifications.service import Contact, Undeliverable, notifications_for, retrying_can_help
from tests.notifications.conftest import REFUSED_DOMAIN, REFUSED_SENDER_DOMAIN, free_port, order_event

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


@pytest.mark.parametrize("name", ["Asha\nRao", "Asha\rRao", "Äsha\nRao"],
                         ids=["newline", "carriage-return", "non-ascii-and-newline"])
async def test_a_stored_name_that_breaks_the_to_header_makes_the_email_undeliverable(smtp_server, unique_name, name):
    address = f"{unique_name}@shopper.example"

    with pytest.raises(Undeliverable, match="the e-mail cannot be written"):
        await email_channel("127.0.0.1", smtp_server.port, SENDER)(shopper_email(Contact(address, name)))

    assert smtp_server.to(address) == []


@pytest.mark.parametrize("local_part", ["{name},{victim}", "{name}<{victim}", "{name}:{victim}", '{name}"{victim}',
                                        "{name}\x00{victim}"])
async def test_a_stored_address_that_would_name_another_mailbox_is_undeliverable(smtp_server, unique_name, local_part):
    victim = f"victim-{unique_name}"
    address = local_part.format(name=unique_name, victim=victim) + "@shopper.example"

    with pytest.raises(Undeliverable, match="the e-mail cannot be"):
        await email_channel("127.0.0.1", smtp_server.port, SENDER)(shopper_email(Contact(address, "Asha")))

    assert not [message for message in smtp_server.messages if victim in str(message["To"])]


@pytest.mark.parametrize("address", ["äsha@shopper.example", "asha(comment)@shopper.example", ""])
async def test_a_stored_address_that_cannot_be_written_as_it_is_is_undeliverable(smtp_server, address):
    with pytest.raises(Undeliverable, match="the e-mail cannot be written"):
        await email_channel("127.0.0.1", smtp_server.port, SENDER)(shopper_email(Contact(address, "Asha")))


async def test_an_event_id_that_cannot_go_into_the_message_id_is_undeliverable(smtp_server):
    notification = shopper_email(Contact("meera@shopper.example", "Meera"), event_id="e1\nBcc: someone@else.example")

    with pytest.raises(Undeliverable, match="the e-mail cannot be written"):
        await email_channel("127.0.0.1", smtp_server.port, SENDER)(notification)


@pytest.mark.parametrize("name", ["Asha\u2028Rao", "Asha\x1cRao", "Asha\tRao"],
                         ids=["line-separator", "file-separator", "tab"])
async def test_a_stored_name_with_another_separator_still_reaches_its_mailbox(smtp_server, unique_name, name):
    address = f"{unique_name}@shopper.example"

    await email_channel("127.0.0.1", smtp_server.port, SENDER)(shopper_email(Contact(address, name)))

    [message] = smtp_server.to(address)
    assert message["To"].addresses[0].addr_spec == address


async def test_a_sender_the_server_refuses_is_worth_retrying_not_a_refusal_of_the_shopper(smtp_server):
    notification = shopper_email(Contact("meera@shopper.example", "Meera"))

    with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
        await email_channel("127.0.0.1", smtp_server.port, f"orders@{REFUSED_SENDER_DOMAIN}")(notification)

    assert refused.value.code == 553 and retrying_can_help(refused.value)


async def test_the_log_channel_writes_one_json_line_per_notification(caplog):
    caplog.set_level(logging.INFO, logger="notifications.sent")
    [notification] = [n for n in notifications_for(order_event(), None, ("log",)) if n.recipient == "seller:s-b"]

    await log_channel()(notification)

    [line] = [record.getMessage() for record in caplog.records if record.name == "notifications.sent"]
    logged = json.loads(line.removeprefix("notification "))
    assert logged == {"event_id": notification.event_id, "order_id": notification.order_id,
                      "event_type": "order_placed", "recipient": "seller:s-b", "subject": notification.subject}
