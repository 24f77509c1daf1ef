"""Plan jobs name the server process that runs them, its heartbeat and a cancel request,
so several processes can share one database.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("owner", sa.String(100), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("cancel_requested")
        batch.drop_column("heartbeat_at")
        batch.drop_column("owner")
