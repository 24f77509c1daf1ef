"""Plans record the master data version they were made on, so a stale plan is not published.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("plans", sa.Column("dataset_version", sa.Integer, nullable=True))


def downgrade() -> None:
    op.drop_column("plans", "dataset_version")
