"""The seller feed: sellers with hashed API keys, feeds, and every feed record's verdict.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.mysql import DATETIME

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sellers",
        sa.Column("seller_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("api_key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", DATETIME(fsp=6), nullable=False),
        mysql_engine="InnoDB",
    )
    op.create_table(
        "feeds",
        sa.Column("feed_id", sa.String(32), primary_key=True),
        sa.Column("seller_id", sa.String(32), sa.ForeignKey("sellers.seller_id"), nullable=False),
        sa.Column("created_at", DATETIME(fsp=6), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("records", sa.Integer, nullable=False, server_default="0"),
        sa.Index("feeds_by_seller", "seller_id", "created_at"),
        mysql_engine="InnoDB",
    )
    op.create_table(
        "feed_records",
        sa.Column("feed_id", sa.String(32), sa.ForeignKey("feeds.feed_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("record_index", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sku", sa.String(100)),
        sa.Column("item_id", sa.String(32)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("errors", sa.JSON),
        sa.Index("feed_records_by_status", "feed_id", "status"),
        mysql_engine="InnoDB",
    )


def downgrade() -> None:
    op.drop_table("feed_records")
    op.drop_table("feeds")
    op.drop_table("sellers")
