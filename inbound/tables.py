"""SQLAlchemy tables of the seller feed: sellers, feeds, record verdicts (created by infra/migrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.mysql import DATETIME
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Times are naive UTC with microseconds.
Moment = DATETIME(fsp=6)


class FeedTable(DeclarativeBase):
    pass


class Seller(FeedTable):
    __tablename__ = "sellers"

    seller_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex; the key itself is never stored
    created_at: Mapped[datetime] = mapped_column(Moment)


class Feed(FeedTable):
    __tablename__ = "feeds"
    __table_args__ = (Index("feeds_by_seller", "seller_id", "created_at"),)

    feed_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seller_id: Mapped[str] = mapped_column(String(32), ForeignKey("sellers.seller_id"))
    created_at: Mapped[datetime] = mapped_column(Moment)
    state: Mapped[str] = mapped_column(String(16))  # receiving | complete | truncated | failed
    records: Mapped[int] = mapped_column(Integer, default=0)


class FeedRecord(FeedTable):
    """One record's verdict: accepted | rejected on arrival, then applied | dead_lettered as item_service reports."""

    __tablename__ = "feed_records"
    __table_args__ = (Index("feed_records_by_status", "feed_id", "status"),)

    feed_id: Mapped[str] = mapped_column(String(32), ForeignKey("feeds.feed_id", ondelete="CASCADE"), primary_key=True)
    record_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sku: Mapped[str | None] = mapped_column(String(100))
    item_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    errors: Mapped[list[Any] | None] = mapped_column(JSON)
