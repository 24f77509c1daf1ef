"""Manual pins: the first production day a planner placed an order on (with pinned_line).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("pinned_start", sa.Date, nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "pinned_start")
