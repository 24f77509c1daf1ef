"""Solve attempts per job: a job whose worker was lost mid-solve is retried, up to a limit.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # jobs made before attempts were counted read as never claimed; they are all finished by now or
    # ended by the reaper, which needs no count to fail them
    op.add_column("plans", sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("plans", "attempts")
