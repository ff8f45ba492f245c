"""the access log: auditors' reads in batches of their own, chained and signed, off the trail

Entries and batches are append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL), as for the audit trail. The head row starts at the genesis hash with no batches.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
TABLES = ("access_entry", "access_batch")

APPEND_ONLY = {
    "sqlite": [
        statement
        for table in TABLES
        for statement in (
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        )
    ],
    "postgresql": [
        "CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
        *(
            statement
            for table in TABLES
            for statement in (
                f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION access_log_append_only()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()",
            )
        ),
    ],
}
DROP_APPEND_ONLY = {
    "sqlite": [
        f"DROP TRIGGER IF EXISTS {table}_{what}"
        for table in TABLES
        for what in ("no_update", "no_delete")
    ],
    "postgresql": [
        *(
            f"DROP TRIGGER IF EXISTS {table}_{what} ON {table}"
            for table in TABLES
            for what in ("no_truncate", "no_update_delete")
        ),
        "DROP FUNCTION IF EXISTS access_log_append_only()",
    ],
}


def upgrade() -> None:
    op.create_table(
        "access_log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_access_log_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log_head")),
    )
    op.create_table(
        "access_batch",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=True),
        sa.Column("signature", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_access_batch")),
        sa.UniqueConstraint("hash", name=op.f("uq_access_batch_hash")),
    )
    op.create_table(
        "access_entry",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("batch_seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("via_id", sa.Integer(), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_entry")),
    )
    with op.batch_alter_table("access_entry") as batch:
        batch.create_index(batch.f("ix_access_entry_batch_seq"), ["batch_seq"], unique=False)
        batch.create_index(batch.f("ix_access_entry_at"), ["at"], unique=False)
        batch.create_index(batch.f("ix_access_entry_actor"), ["actor"], unique=False)
        batch.create_index(batch.f("ix_access_entry_programme_id"), ["programme_id"], unique=False)
    op.bulk_insert(
        sa.table(
            "access_log_head",
            sa.column("id", sa.Integer()),
            sa.column("count", sa.Integer()),
            sa.column("entries", sa.Integer()),
            sa.column("last_hash", sa.String()),
        ),
        [{"id": 1, "count": 0, "entries": 0, "last_hash": GENESIS_HASH}],
    )
    for statement in APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    op.drop_table("access_entry")
    op.drop_table("access_batch")
    op.drop_table("access_log_head")
