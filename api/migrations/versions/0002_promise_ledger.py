"""The promise ledger (its lock row and the room kept for confirmed orders) and joint reviews.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lock = op.create_table(
        "ledger_lock",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.bulk_insert(lock, [{"id": 1, "version": 0}])
    op.create_table(
        "promises",
        sa.Column("order_id", sa.String(100), primary_key=True),
        sa.Column("product_id", sa.String(100), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("placement", sa.JSON, nullable=True),
        sa.Column("promised_delivery", sa.Date, nullable=False),
        sa.Column("plan_id", sa.String(40), nullable=True),
        sa.Column("source", sa.String(60), nullable=False),
        sa.Column("at_risk", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "order_reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(100), nullable=False, index=True),
        sa.Column("department", sa.String(20), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("order_reviews")
    op.drop_table("promises")
    op.drop_table("ledger_lock")
