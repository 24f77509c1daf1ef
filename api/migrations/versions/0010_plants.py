"""Plants: every row belongs to a plant; the data kept so far becomes the default plant's.

Orders and promises are keyed by (plant, order id), so two plants may use the same order
numbers; the master data and the ledger lock become one row per plant.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

DEFAULT_PLANT = "default"
INDEXED = ("order_events", "plans", "publications", "quotes", "order_reviews", "scenarios")
KEYED_BY_ORDER = ("orders", "promises")
ONE_ROW_PER_PLANT = ("master_data", "ledger_lock")
PK_NAMES = {"pk": "%(table_name)s_pkey"}  # PostgreSQL's names; SQLite's unnamed keys get them to be dropped


def _plant_column() -> sa.Column:
    return sa.Column("plant_id", sa.String(40), nullable=False, server_default=DEFAULT_PLANT)


def upgrade() -> None:
    plants = op.create_table(
        "plants",
        sa.Column("plant_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    op.bulk_insert(plants, [{"plant_id": DEFAULT_PLANT, "name": "", "created_at": now}])
    for table in INDEXED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(_plant_column())
            batch.create_index(f"ix_{table}_plant_id", ["plant_id"])
    for table in KEYED_BY_ORDER:
        with op.batch_alter_table(table, recreate="always", naming_convention=PK_NAMES) as batch:
            batch.add_column(_plant_column())
            batch.drop_constraint(f"{table}_pkey", type_="primary")
            batch.create_primary_key(f"{table}_pkey", ["plant_id", "order_id"])
    for table in ONE_ROW_PER_PLANT:
        with op.batch_alter_table(table, recreate="always", naming_convention=PK_NAMES) as batch:
            batch.add_column(_plant_column())
            batch.drop_constraint(f"{table}_pkey", type_="primary")
            batch.drop_column("id")
            batch.create_primary_key(f"{table}_pkey", ["plant_id"])


def downgrade() -> None:
    # back to one plant: only the default plant's rows can be kept
    for table in (*INDEXED, *KEYED_BY_ORDER, *ONE_ROW_PER_PLANT):
        op.execute(sa.text(f"DELETE FROM {table} WHERE plant_id <> :plant").bindparams(plant=DEFAULT_PLANT))
    for table in ONE_ROW_PER_PLANT:
        with op.batch_alter_table(table, recreate="always", naming_convention=PK_NAMES) as batch:
            batch.drop_constraint(f"{table}_pkey", type_="primary")
            batch.add_column(sa.Column("id", sa.Integer, nullable=False, server_default="1"))
            batch.drop_column("plant_id")
            batch.create_primary_key(f"{table}_pkey", ["id"])
    for table in KEYED_BY_ORDER:
        with op.batch_alter_table(table, recreate="always", naming_convention=PK_NAMES) as batch:
            batch.drop_constraint(f"{table}_pkey", type_="primary")
            batch.drop_column("plant_id")
            batch.create_primary_key(f"{table}_pkey", ["order_id"])
    for table in INDEXED:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_plant_id")
            batch.drop_column("plant_id")
    op.drop_table("plants")
