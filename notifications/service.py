"""Who hears about an order event, on which channels, and what the message says; which failures to notify are worth
retrying (pure rules, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import aiosmtplib
from sqlalchemy import exc as sql

from orders.events import OrderEvent, OrderLineSnapshot

CHANNELS = ("email", "log")
# What a person cares about; order_created is only the start of the payment window.
HEADLINES = {
    "order_placed": "is placed",
    "order_cancelled": "is cancelled",
    "order_shipped": "has shipped",
    "order_delivered": "is delivered",
    "payment_refunded": "is refunded",
}
NOTIFIED_TYPES = frozenset(HEADLINES)
CANCEL_REASONS = {
    "payment_failed": "the payment did not go through",
    "payment_timeout": "no payment arrived within the payment window",
    "shopper": "you cancelled it",
    "shopper_cancelled": "you cancelled it",
    "operations": "our operations team cancelled it",
}


class Undeliverable(Exception):
    """A channel refused a notification for good (say, an SMTP 5xx); retrying would never succeed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def retrying_can_help(error: BaseException) -> bool:
    """Whether `error`, raised while notifying, is the world around the message being away, slow, busy or misconfigured
    (the same for every message: wait it out), rather than something wrong with this message (refuse it for good).

    Retried: connections refused or reset, timeouts, SMTP 4xx anywhere, an SMTP 5xx before any recipient is named
    (greeting, HELO, our sender: the server refuses us, not this message), MySQL errors other than refusing the values.
    Not retried: a header the e-mail library refuses (ValueError, and so UnicodeError and email's HeaderDefect), an
    e-mail the library cannot parse (email.errors.MessageError), a recipient or a message the server refuses with 5xx,
    an extension the message needs and the server lacks (SMTPUTF8), values MySQL refuses to store, and anything
    unexpected: a bug that would fail this message again is dead-lettered rather than stall every message behind it."""
    if isinstance(error, Undeliverable | aiosmtplib.SMTPNotSupported):
        return False
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return not all(recipient.code >= 500 for recipient in error.recipients)
    if isinstance(error, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        return error.code < 500
    if isinstance(error, sql.DataError | sql.IntegrityError):
        return False
    return isinstance(error, OSError | EOFError | aiosmtplib.SMTPException | sql.DBAPIError | sql.TimeoutError
                      | sql.DisconnectionError)


def refusal_reason(error: BaseException) -> str:
    """What a dead letter says about a failure that retrying cannot fix."""
    if isinstance(error, Undeliverable):
        return error.reason
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"{type(error).__name__}: {error.code} {error.message}"
    return f"{type(error).__name__}: {error}"


@dataclass(frozen=True)
class Contact:
    email: str
    name: str


@dataclass(frozen=True)
class Notification:
    """One message to one recipient on one channel; (event_id, recipient, channel) is sent at most once."""

    event_id: str
    order_id: str
    event_type: str
    recipient: str  # `user:<user_id>` or `seller:<seller_id>`
    channel: str
    subject: str
    body: str
    address: str | None = None  # the e-mail address, for the e-mail channel
    name: str | None = None


def enabled_channels(setting: str) -> tuple[str, ...]:
    """`"email, log"` -> ("email", "log"); an unknown name is a configuration error, caught at start."""
    names = tuple(dict.fromkeys(name.strip() for name in setting.split(",") if name.strip()))
    unknown = [name for name in names if name not in CHANNELS]
    if unknown:
        raise ValueError(f"unknown notification channel(s) {unknown}; known: {list(CHANNELS)}")
    return names


def notifications_for(event: OrderEvent, shopper: Contact | None, channels: Iterable[str]) -> list[Notification]:
    """Every notification an event gets: the shopper's, then one per distinct seller of its lines.

    Only a shopper with an address on file gets e-mail; everyone else is told on the log channel alone."""
    if event.type not in NOTIFIED_TYPES:
        return []
    channels = tuple(channels)
    shopper_channels = [c for c in channels if c != "email" or shopper is not None]
    subject, body = shopper_message(event, shopper.name if shopper else None)
    found = [Notification(event.event_id, event.order_id, event.type, f"user:{event.user_id}", channel, subject,
                          body, shopper.email if shopper and channel == "email" else None,
                          shopper.name if shopper else None) for channel in shopper_channels]
    if "log" in channels:
        for seller_id in sellers_of(event):
            subject, body = seller_message(event, seller_id)
            found.append(Notification(event.event_id, event.order_id, event.type, f"seller:{seller_id}", "log",
                                      subject, body))
    return found


def sellers_of(event: OrderEvent) -> list[str]:
    """Distinct sellers in the order of their first line."""
    return list(dict.fromkeys(line.seller_id for line in event.lines))


def shopper_message(event: OrderEvent, name: str | None) -> tuple[str, str]:
    order = short_id(event.order_id)
    if event.type == "payment_refunded":
        subject = f"Your payment for order {order} is refunded"
    else:
        subject = f"Your order {order} {HEADLINES[event.type]}"
    paragraphs = [f"Hello {name}," if name else "Hello,", _what_happened(event), _lines_text(event, event.lines),
                  f"Total: {_money(event.currency, event.total)}", f"Order number: {event.order_id}"]
    return subject, "\n\n".join(paragraphs) + "\n"


def seller_message(event: OrderEvent, seller_id: str) -> tuple[str, str]:
    """A seller hears only about their own lines."""
    own = [line for line in event.lines if line.seller_id == seller_id]
    verb = "refunded" if event.type == "payment_refunded" else HEADLINES[event.type]
    subject = f"Order {short_id(event.order_id)} {verb}: {sum(line.quantity for line in own)} of your units"
    subtotal = sum((line.unit_price * line.quantity for line in own), Decimal(0))
    reason = f" ({cancel_reason_text(event.cancel_reason)})" if event.type == "order_cancelled" else ""
    body = (f"Order {event.order_id} {verb}{reason}.\n\n{_lines_text(event, own)}\n\n"
            f"Your subtotal: {_money(event.currency, subtotal)}\n")
    return subject, body


def cancel_reason_text(reason: str | None) -> str:
    if not reason:
        return "no reason was given"
    return CANCEL_REASONS.get(reason, reason.replace("_", " "))


def short_id(order_id: str) -> str:
    return f"{order_id[:8]}…" if len(order_id) > 8 else order_id


def _what_happened(event: OrderEvent) -> str:
    match event.type:
        case "order_placed":
            return "Thank you: your payment went through and your order is placed."
        case "order_cancelled":
            return f"Your order is cancelled: {cancel_reason_text(event.cancel_reason)}."
        case "order_shipped":
            return "Your order has left the warehouse and is on its way."
        case "order_delivered":
            return "Your order has been delivered. We hope you enjoy it."
        case _:
            return f"Your payment of {_money(event.currency, event.total)} is being refunded."


def _lines_text(event: OrderEvent, lines: list[OrderLineSnapshot]) -> str:
    return "\n".join(f"  {line.quantity} x {line.title} @ {_money(event.currency, line.unit_price)}"
                     f" = {_money(event.currency, line.unit_price * line.quantity)}" for line in lines)


def _money(currency: str, amount: Decimal) -> str:
    return f"{currency} {amount:.2f}"
