"""Stock on hand and reserved kept apart, so a count (the seller's or the feed's) can never erase a reservation.

`stock_levels.quantity` becomes `on_hand` (the units on the shelf); `reserved` holds the units promised to open orders
(CREATED or PLACED: not yet shipped, cancelled or timed out); what can be sold is `on_hand - reserved`. `feed_quantity`
is what the feed last stated for the row, so a replayed feed statement that says nothing new changes nothing. In
`stock_movements`, `delta` becomes `on_hand_delta` beside a new `reserved_delta`: the ledger adds up to both columns.

Existing rows keep what is sellable. Until now `quantity` was what was still sellable: counts minus the units of every
order ever placed from the row, with cancelled orders' units put back and shipping changing nothing. So per row:
    reserved = the units of the row's open (CREATED/PLACED) order lines
    on_hand  = quantity + reserved   (open orders' units are still on the shelf; shipped and delivered ones are gone)
and `on_hand - reserved` equals the old `quantity`. Movements are re-read the same way: those of open orders (their
`reserve`, -q) move `reserved` (+q) instead of the shelf; all others (counts, and the reserve/release pairs of finished
orders, which the old ledger already subtracted for good) stay on `on_hand`. A row that agreed with its movements
before agrees in both columns after; one that drifted keeps its drift, in `on_hand`. `downgrade` folds both back
(`quantity = on_hand - reserved`, `delta = on_hand_delta - reserved_delta`).

Refunds get an index by status: refunds are recorded `pending` and settled through the gateway, oldest first.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN_ORDERS = "SELECT order_id FROM orders WHERE status IN ('CREATED', 'PLACED')"


def upgrade() -> None:
    op.drop_constraint("stock_never_negative", "stock_levels", type_="check")
    op.alter_column("stock_levels", "quantity", new_column_name="on_hand", existing_type=sa.Integer,
                    existing_nullable=False)
    op.add_column("stock_levels", sa.Column("reserved", sa.Integer, nullable=False, server_default="0"))
    op.add_column("stock_levels", sa.Column("feed_quantity", sa.Integer, nullable=True))
    op.execute("UPDATE stock_levels s JOIN (SELECT l.item_id, l.warehouse_id, SUM(l.quantity) AS units "
               f"FROM order_lines l WHERE l.order_id IN ({OPEN_ORDERS}) GROUP BY l.item_id, l.warehouse_id) r "
               "ON r.item_id = s.item_id AND r.warehouse_id = s.warehouse_id "
               "SET s.reserved = r.units, s.on_hand = s.on_hand + r.units")
    op.create_check_constraint("stock_never_negative", "stock_levels", "on_hand >= 0")
    op.create_check_constraint("reserved_never_negative", "stock_levels", "reserved >= 0")

    op.alter_column("stock_movements", "delta", new_column_name="on_hand_delta", existing_type=sa.Integer,
                    existing_nullable=False)
    op.add_column("stock_movements", sa.Column("reserved_delta", sa.Integer, nullable=False, server_default="0"))
    # Two statements: the order of assignments within one multi-table UPDATE is not defined.
    op.execute(f"UPDATE stock_movements SET reserved_delta = -on_hand_delta WHERE order_id IN ({OPEN_ORDERS})")
    op.execute(f"UPDATE stock_movements SET on_hand_delta = 0 WHERE order_id IN ({OPEN_ORDERS})")

    op.create_index("refunds_by_status", "refunds", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("refunds_by_status", "refunds")
    op.execute("UPDATE stock_movements SET on_hand_delta = on_hand_delta - reserved_delta")
    op.drop_column("stock_movements", "reserved_delta")
    op.alter_column("stock_movements", "on_hand_delta", new_column_name="delta", existing_type=sa.Integer,
                    existing_nullable=False)

    op.drop_constraint("reserved_never_negative", "stock_levels", type_="check")
    op.drop_constraint("stock_never_negative", "stock_levels", type_="check")
    op.execute("UPDATE stock_levels SET on_hand = GREATEST(on_hand - reserved, 0)")
    op.drop_column("stock_levels", "feed_quantity")
    op.drop_column("stock_levels", "reserved")
    op.alter_column("stock_levels", "on_hand", new_column_name="quantity", existing_type=sa.Integer,
                    existing_nullable=False)
    op.create_check_constraint("stock_never_negative", "stock_levels", "quantity >= 0")
