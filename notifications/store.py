"""MySQL adapter of notifications: a shopper's contact, which notifications of an event were already sent, and the record."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from notifications.service import Contact, Notification
from notifications.tables import SentNotification, users

sent = SentNotification.metadata.tables[SentNotification.__tablename__]


class NotificationStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def contact(self, user_id: str) -> Contact | None:
        """The shopper's e-mail address and name, or None when the user is not on file."""
        async with self.engine.connect() as db:
            row = (await db.execute(select(users.c.email, users.c.name).where(users.c.user_id == user_id))).first()
        return Contact(email=row.email, name=row.name) if row else None

    async def already_sent(self, event_id: str) -> set[tuple[str, str]]:
        """(recipient, channel) of every notification of this event sent before (a redelivery)."""
        async with self.engine.connect() as db:
            rows = await db.execute(select(sent.c.recipient, sent.c.channel).where(sent.c.event_id == event_id))
        return {(row.recipient, row.channel) for row in rows}

    async def record_sent(self, notification: Notification) -> None:
        # IGNORE: a concurrent consumer that sent the same notification may have recorded it first.
        row = {"event_id": notification.event_id, "recipient": notification.recipient,
               "channel": notification.channel, "order_id": notification.order_id,
               "event_type": notification.event_type, "subject": notification.subject[:300], "sent_at": _now()}
        async with self.engine.begin() as db:
            await db.execute(insert(sent).prefix_with("IGNORE").values(row))

    async def sent_for_order(self, order_id: str) -> list[dict]:
        """Every notification sent about an order, oldest first."""
        async with self.engine.connect() as db:
            rows = await db.execute(select(sent).where(sent.c.order_id == order_id).order_by(sent.c.sent_at))
        return [dict(row) for row in rows.mappings()]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
