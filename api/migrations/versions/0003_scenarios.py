"""What-if scenarios and exceptions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenarios",
        sa.Column("scenario_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("edits", sa.JSON, nullable=False),
        sa.Column("plan_id", sa.String(40), nullable=False),
        sa.Column("base_plan_id", sa.String(40), nullable=True),
        sa.Column("live_fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("comparison", sa.JSON, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False, index=True),
        sa.Column("closed_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("scenarios")
