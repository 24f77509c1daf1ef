"""Initial schema: master data, orders and their history, plan jobs, publications, quotes.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "master_data",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(100), primary_key=True),
        sa.Column("product_id", sa.String(100), nullable=False, index=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False, index=True),
        sa.Column("customer_id", sa.String(100), nullable=True, index=True),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("earliest_start", sa.Date, nullable=True),
        sa.Column("pinned_line", sa.String(100), nullable=True),
        sa.Column("order_type", sa.String(20), nullable=False),
        sa.Column("deposit_ratio", sa.Float, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(100), nullable=False, index=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "plans",
        sa.Column("plan_id", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime, nullable=False, index=True),
        sa.Column("started_at", sa.DateTime, nullable=True),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("baseline_plan_id", sa.String(40), nullable=True),
        sa.Column("input_snapshot", sa.JSON, nullable=False),
        sa.Column("progress", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.Column("schedule", sa.JSON, nullable=True),
        sa.Column("valid", sa.Boolean, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(40), sa.ForeignKey("plans.plan_id"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("by", sa.String(200), nullable=False),
    )
    op.create_table(
        "quotes",
        sa.Column("quote_id", sa.String(40), primary_key=True),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("answer", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False, index=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("order_id", sa.String(100), nullable=True),
    )


def downgrade() -> None:
    for table in ("quotes", "publications", "plans", "order_events", "orders", "master_data"):
        op.drop_table(table)
