"""SQLAlchemy table of the notifications sent (created by migration 0004), and the shopper columns read from `users`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, column, table
from sqlalchemy.dialects.mysql import DATETIME
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class NotificationTable(DeclarativeBase):
    pass


class SentNotification(NotificationTable):
    """One row per (event, recipient, channel) actually sent: the dedup key and the record of what was said."""

    __tablename__ = "notifications"
    __table_args__ = (Index("notifications_by_order", "order_id"),)

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(32))
    event_type: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(300))
    sent_at: Mapped[datetime] = mapped_column(DATETIME(fsp=6))


# Shoppers belong to identity/; notifications only read their contact columns.
users = table("users", column("user_id"), column("email"), column("name"))
