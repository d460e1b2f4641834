"""Checkout: shoppers, carts and wishlists, stock movements, orders with their lines, payments, notifications.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.mysql import DATETIME

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.String(32)
ITEM = sa.String(64)
MONEY = sa.Numeric(14, 2)


def now_column(name: str) -> sa.Column:
    return sa.Column(name, DATETIME(fsp=6), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP(6)"))


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", ID, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("default_pincode", sa.String(6)),
        now_column("created_at"),
        now_column("updated_at"),
        mysql_engine="InnoDB",
    )
    op.create_table(
        "cart_lines",
        sa.Column("user_id", ID, sa.ForeignKey("users.user_id"), primary_key=True),
        sa.Column("item_id", ITEM, primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        now_column("added_at"),
        sa.CheckConstraint("quantity > 0", name="cart_quantity_positive"),
        mysql_engine="InnoDB",
    )
    op.create_table(
        "wishlist_items",
        sa.Column("user_id", ID, sa.ForeignKey("users.user_id"), primary_key=True),
        sa.Column("item_id", ITEM, primary_key=True),
        now_column("added_at"),
        mysql_engine="InnoDB",
    )
    # The feed's stock is applied only when newer than what the feed last set for that row.
    op.add_column("stock_levels", sa.Column("feed_version", sa.BigInteger, nullable=False, server_default="0"))
    op.create_table(
        "stock_movements",
        sa.Column("movement_id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("item_id", ITEM, nullable=False),
        sa.Column("warehouse_id", sa.String(64), nullable=False),
        sa.Column("delta", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),  # set | reserve | release
        sa.Column("order_id", ID),
        now_column("created_at"),
        sa.Index("stock_movements_by_row", "item_id", "warehouse_id"),
        mysql_engine="InnoDB",
    )
    op.create_table(
        "orders",
        sa.Column("order_id", ID, primary_key=True),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cancel_reason", sa.String(32)),
        sa.Column("pincode", sa.String(6), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("payment_id", ID, nullable=False),  # an order reinstated after a late payment keeps its payment
        sa.Column("replaces_order_id", ID),
        now_column("created_at"),
        sa.Column("expires_at", DATETIME(fsp=6), nullable=False),
        now_column("updated_at"),
        sa.UniqueConstraint("user_id", "idempotency_key", name="orders_idempotency"),
        sa.Index("orders_by_user", "user_id", "created_at"),
        sa.Index("orders_due", "status", "expires_at"),
        sa.Index("orders_by_payment", "payment_id"),
        mysql_engine="InnoDB",
    )
    op.create_table(
        "order_lines",
        sa.Column("order_id", ID, sa.ForeignKey("orders.order_id"), primary_key=True),
        sa.Column("line_no", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("item_id", ITEM, nullable=False),
        sa.Column("seller_id", ID, nullable=False),
        sa.Column("warehouse_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("eta_hours", sa.Float),
        mysql_engine="InnoDB",
    )
    op.create_table(
        "payment_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("payment_id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("result", sa.String(32), nullable=False),
        now_column("received_at"),
        mysql_engine="InnoDB",
    )
    op.create_table(
        "refunds",
        sa.Column("payment_id", ID, primary_key=True),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        now_column("created_at"),
        mysql_engine="InnoDB",
    )
    op.create_table(
        "notifications",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("recipient", sa.String(254), primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        now_column("sent_at"),
        sa.Index("notifications_by_order", "order_id"),
        mysql_engine="InnoDB",
    )


def downgrade() -> None:
    for table in ("notifications", "refunds", "payment_events", "order_lines", "orders", "stock_movements",
                  "wishlist_items", "cart_lines", "users"):
        op.drop_table(table)
    op.drop_column("stock_levels", "feed_version")
