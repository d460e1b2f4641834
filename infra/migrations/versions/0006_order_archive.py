"""The order archive: each order's timeline, and what stays in MySQL of an order moved to Cassandra.

`orders` gets the moment each status was reached (`placed_at`, `shipped_at`, `delivered_at`, `cancelled_at`; with
`created_at` they are the order's timeline), set by the same statement that changes the status. Orders finished before
this revision get their final status' moment from `updated_at` (the last change was that one).

`archived_orders` keeps, per order moved to the archive, its header: enough to answer its Idempotency-Key (a replayed
POST returns the archived order, never a new one) and a late or replayed payment for it (duplicate, refund), without
reading the archive on those paths. Lines, refunds and the rest of the order live in Cassandra only; payment events
(the gateway's idempotency record, by event_id), notifications (the notifier's record of what was sent) and stock
movements (what `shop inventory reconcile` sums) stay in MySQL.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.mysql import DATETIME

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.String(32)
MONEY = sa.Numeric(14, 2)
MOMENTS = {"PLACED": "placed_at", "SHIPPED": "shipped_at", "DELIVERED": "delivered_at", "CANCELLED": "cancelled_at"}


def upgrade() -> None:
    for column in MOMENTS.values():
        op.add_column("orders", sa.Column(column, DATETIME(fsp=6), nullable=True))
    for status, column in MOMENTS.items():
        op.execute(f"UPDATE orders SET {column} = updated_at WHERE status = '{status}'")
    op.create_index("orders_finished", "orders", ["status", "updated_at"])
    op.create_table(
        "archived_orders",
        sa.Column("order_id", ID, primary_key=True),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cancel_reason", sa.String(32)),
        sa.Column("pincode", sa.String(6), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("payment_id", ID, nullable=False),
        sa.Column("replaces_order_id", ID),
        sa.Column("created_at", DATETIME(fsp=6), nullable=False),
        sa.Column("updated_at", DATETIME(fsp=6), nullable=False),
        # What became of its payment when it was archived, or later: 'refunded', 'reinstated' or NULL.
        sa.Column("settled", sa.String(16)),
        sa.Column("archived_at", DATETIME(fsp=6), nullable=False,
                  server_default=sa.text("CURRENT_TIMESTAMP(6)")),
        sa.UniqueConstraint("user_id", "idempotency_key", name="archived_orders_idempotency"),
        sa.Index("archived_orders_by_payment", "payment_id"),
        mysql_engine="InnoDB",
    )


def downgrade() -> None:
    op.drop_table("archived_orders")
    op.drop_index("orders_finished", "orders")
    for column in MOMENTS.values():
        op.drop_column("orders", column)
