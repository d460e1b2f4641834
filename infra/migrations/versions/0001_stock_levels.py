"""Stock on hand per (item, warehouse), which the database itself keeps from going negative.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_levels",
        sa.Column("item_id", sa.String(64), primary_key=True),
        sa.Column("warehouse_id", sa.String(64), primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False, server_default=sa.func.current_timestamp()),
        sa.CheckConstraint("quantity >= 0", name="stock_never_negative"),
        mysql_engine="InnoDB",
    )


def downgrade() -> None:
    op.drop_table("stock_levels")
