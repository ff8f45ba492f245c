"""evidence files, stored by their SHA-256

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A file's bytes and its attachment are never changed: one is removed (while its record is
# open, or by a retention decision), never rewritten.
TABLES = ("evidence_blob", "evidence_file")
NO_UPDATE = {
    "sqlite": [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is never changed'); END"
        for table in TABLES
    ],
    "postgresql": [
        "CREATE FUNCTION evidence_never_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is never changed', TG_TABLE_NAME; END $$",
        *(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION evidence_never_changed()"
            for table in TABLES
        ),
    ],
}
DROP_NO_UPDATE = {
    "sqlite": [f"DROP TRIGGER IF EXISTS {table}_no_update" for table in TABLES],
    "postgresql": [
        *(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}" for table in TABLES),
        "DROP FUNCTION IF EXISTS evidence_never_changed()",
    ],
}


def upgrade() -> None:
    op.create_table(
        "evidence_blob",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_evidence_blob")),
    )
    op.create_table(
        "evidence_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "record IN ('deviation', 'action', 'checklist_line', 'follow_up', "
            "'management_review', 'procedure')",
            name=op.f("ck_evidence_file_record"),
        ),
        sa.CheckConstraint(
            "purpose IS NULL OR purpose IN ('completion', 'verification')",
            name=op.f("ck_evidence_file_purpose"),
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["evidence_blob.sha256"],
            name=op.f("fk_evidence_file_sha256_evidence_blob"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_file")),
    )
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_file_record_id"), ["record_id"])
        batch_op.create_index(batch_op.f("ix_evidence_file_sha256"), ["sha256"])
    for statement in NO_UPDATE.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_NO_UPDATE.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_file_sha256"))
        batch_op.drop_index(batch_op.f("ix_evidence_file_record_id"))
    op.drop_table("evidence_file")
    op.drop_table("evidence_blob")
