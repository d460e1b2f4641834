"""The channels a notification goes out on: `email` (SMTP) and `log` (one structured log line).

A channel is any `async (Notification) -> None`; it raises `Undeliverable` when the refusal is final, and anything
else (a server away, a timeout, a 4xx) is worth retrying."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from email.message import EmailMessage
from email.utils import formataddr, formatdate

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
        try:
            await aiosmtplib.send(email_message(notification, sender), hostname=host, port=port,
                                  timeout=SMTP_TIMEOUT_SECONDS)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            if all(recipient.code >= 500 for recipient in refused.recipients):
                answers = "; ".join(f"{recipient.code} {recipient.message}" for recipient in refused.recipients)
                raise Undeliverable(f"e-mail refused: {answers}") from refused
            raise
        except aiosmtplib.SMTPResponseException as error:
            if error.code >= 500:
                raise Undeliverable(f"e-mail refused: {error.code} {error.message}") from error
            raise

    return send_email


def email_message(notification: Notification, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((notification.name or "", notification.address or ""))
    message["Subject"] = notification.subject
    message["Date"] = formatdate(localtime=False)
    # Stable per (event, recipient): should a crash between sending and recording resend it, mail clients see a copy.
    domain = sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<{notification.event_id}.{notification.recipient.replace(':', '-')}@{domain}>"
    message.set_content(notification.body)
    return message


def log_channel(logger: logging.Logger | None = None) -> Channel:
    logger = logger or logging.getLogger("notifications.sent")

    async def send_log(notification: Notification) -> None:
        logger.info("notification %s", json.dumps({
            "event_id": notification.event_id, "order_id": notification.order_id,
            "event_type": notification.event_type, "recipient": notification.recipient,
            "subject": notification.subject}, ensure_ascii=False))

    return send_log
