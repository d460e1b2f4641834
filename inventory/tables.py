"""SQLAlchemy tables of the inventory (created by the Alembic migrations in infra/migrations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Integer, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class InventoryTable(DeclarativeBase):
    pass


class StockLevel(InventoryTable):
    __tablename__ = "stock_levels"
    __table_args__ = (CheckConstraint("quantity >= 0", name="stock_never_negative"),)

    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    warehouse_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())
