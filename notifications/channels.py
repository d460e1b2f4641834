"""The channels a notification goes out on: `email` (SMTP) and `log` (one structured log line).

A channel is any `async (Notification) -> None`; it raises `Undeliverable` when it knows the refusal is final, and the
consumer sorts any other error with `retrying_can_help` (a server away, a timeout, a 4xx is worth retrying)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from notifications.service import Notification, Undeliverable

Channel = Callable[[Notification], Awaitable[None]]
SMTP_TIMEOUT_SECONDS = 30


def build_channels(names: Iterable[str], *, smtp_host: str, smtp_port: int, smtp_sender: str) -> dict[str, Channel]:
    """The senders of the enabled channels, by name."""
    makers = {"email": lambda: email_channel(smtp_host, smtp_port, smtp_sender), "log": log_channel}
    return {name: makers[name]() for name in names}


def email_channel(host: str, port: int, sender: str) -> Channel:
    async def send_email(notification: Notification) -> None:
        message = email_message(notification, sender)
        try:
            await aiosmtplib.send(message, hostname=host, port=port, timeout=SMTP_TIMEOUT_SECONDS)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            if all(recipient.code >= 500 for recipient in refused.recipients):
                answers = "; ".join(f"{recipient.code} {recipient.message}" for recipient in refused.recipients)
                raise Undeliverable(f"e-mail refused: {answers}") from refused
            raise
        except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError) as error:
            # A 5xx to the recipient or to the message is final; one to the greeting, HELO or our sender is the server
            # refusing us, not this message, and is retried like a server that is away.
            if error.code >= 500:
                raise Undeliverable(f"e-mail refused: {error.code} {error.message}") from error
            raise
        except (ValueError, aiosmtplib.SMTPNotSupported) as error:
            # An address aiosmtplib will not put on a command line, or one that needs SMTPUTF8 the server lacks.
            raise Undeliverable(f"the e-mail cannot be sent: {error}") from error

    return send_email


def email_message(notification: Notification, sender: str) -> EmailMessage:
    """The message, or Undeliverable when a header cannot hold what it was given (a name with a line break, an address
    that is not exactly one mailbox, an event id that cannot go into a Message-ID)."""
    try:
        return _email_message(notification, sender)
    except (ValueError, MessageError) as error:  # ValueError covers email's HeaderDefects and UnicodeErrors
        raise Undeliverable(f"the e-mail cannot be written: {type(error).__name__}: {error}") from error


def _email_message(notification: Notification, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = _recipient(notification.name or "", notification.address or "")
    message["Subject"] = notification.subject
    message["Date"] = formatdate(localtime=False)
    # Stable per (event, recipient): should a crash between sending and recording resend it, mail clients see a copy.
    domain = sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<{notification.event_id}.{notification.recipient.replace(':', '-')}@{domain}>"
    message.set_content(notification.body)
    return message


def _recipient(name: str, address: str) -> Address:
    # Address, not formataddr: it refuses an addr_spec with more than one mailbox (`a,b@x`, `a<b@x`) instead of writing
    # a header that names another, and it says when it had to drop part of one (`a(comment)@x` is `a@x`).
    if not address:
        raise ValueError("no e-mail address on file")
    recipient = Address(display_name=name, addr_spec=address)
    if recipient.addr_spec != address:
        raise ValueError(f"{address!r} is not one mailbox; it would be sent to {recipient.addr_spec!r}")
    return recipient


def log_channel(logger: logging.Logger | None = None) -> Channel:
    logger = logger or logging.getLogger("notifications.sent")

    async def send_log(notification: Notification) -> None:
        logger.info("notification %s", json.dumps({
            "event_id": notification.event_id, "order_id": notification.order_id,
            "event_type": notification.event_type, "recipient": notification.recipient,
            "subject": notification.subject}, ensure_ascii=False))

    return send_log
