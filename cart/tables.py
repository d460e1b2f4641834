"""SQLAlchemy tables of carts and wishlists (created by the Alembic migrations in infra/migrations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.dialects.mysql import DATETIME
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class CartTable(DeclarativeBase):
    pass


class CartLine(CartTable):
    __tablename__ = "cart_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="cart_quantity_positive"),)

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DATETIME(fsp=6))


class WishlistItem(CartTable):
    __tablename__ = "wishlist_items"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(DATETIME(fsp=6))
