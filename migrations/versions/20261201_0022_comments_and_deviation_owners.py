"""comments on records, and a deviation's owner

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORDS = ("deviation", "action", "internal_audit", "management_review")

# A comment is never changed or removed once written (a correction is a new comment): the
# database refuses it, as it refuses it for the audit trail.
APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER comment_no_update BEFORE UPDATE ON comment "
        "BEGIN SELECT RAISE(ABORT, 'comment is append-only'); END",
        "CREATE TRIGGER comment_no_delete BEFORE DELETE ON comment "
        "BEGIN SELECT RAISE(ABORT, 'comment is append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION comment_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'comment is append-only'; END $$",
        "CREATE TRIGGER comment_no_update_delete BEFORE UPDATE OR DELETE ON comment "
        "FOR EACH ROW EXECUTE FUNCTION comment_append_only()",
        "CREATE TRIGGER comment_no_truncate BEFORE TRUNCATE ON comment "
        "FOR EACH STATEMENT EXECUTE FUNCTION comment_append_only()",
    ],
}
DROP_APPEND_ONLY = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS comment_no_delete",
        "DROP TRIGGER IF EXISTS comment_no_update",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS comment_no_truncate ON comment",
        "DROP TRIGGER IF EXISTS comment_no_update_delete ON comment",
        "DROP FUNCTION IF EXISTS comment_append_only()",
    ],
}


def upgrade() -> None:
    with op.batch_alter_table("deviation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_deviation_owner_id"), ["owner_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_deviation_owner_id_user_account"), "user_account", ["owner_id"], ["id"]
        )
    op.create_table(
        "comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "record",
            sa.Enum(*RECORDS, name="record", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_comment_author_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_comment_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
    )
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.create_index("ix_comment_record_record_id", ["record", "record_id", "id"])
    for statement in APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_APPEND_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index("ix_comment_record_record_id")
    op.drop_table("comment")
    with op.batch_alter_table("deviation", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deviation_owner_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_deviation_owner_id"))
        batch_op.drop_column("owner_id")
