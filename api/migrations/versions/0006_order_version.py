"""Optimistic concurrency on orders: a version bumped on every change (the order's ETag).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # existing orders start at version 1, as new ones do
    op.add_column("orders", sa.Column("version", sa.Integer, nullable=False, server_default="1"))


def downgrade() -> None:
    op.drop_column("orders", "version")
