"""Survey exports: an answer keeps its moment, number questions, saved column mappings, and how
each batch's file was read

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_TYPES = ["scale", "choice", "text"]


def _types(values: list[str]) -> str:
    return "type IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number_min", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("number_max", sa.Float(), nullable=True))
        batch_op.drop_constraint(op.f("ck_question_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_question_type"), _types([*OLD_TYPES, "number"]))

    # Answers from before kept only their day: their moment stays unknown.
    with op.batch_alter_table("evaluation_response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "import_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instrument.id"],
            name=op.f("fk_import_mapping_instrument_id_instrument"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_mapping")),
        sa.UniqueConstraint(
            "instrument_id", "name", name=op.f("uq_import_mapping_instrument_id_name")
        ),
    )

    with op.batch_alter_table("evaluation_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("encoding", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("delimiter", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("problems_total", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("mapping_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_evaluation_batch_mapping_id_import_mapping"),
            "import_mapping",
            ["mapping_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation_batch", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_evaluation_batch_mapping_id_import_mapping"), type_="foreignkey"
        )
        batch_op.drop_column("mapping_id")
        batch_op.drop_column("problems_total")
        batch_op.drop_column("delimiter")
        batch_op.drop_column("encoding")
    op.drop_table("import_mapping")
    with op.batch_alter_table("evaluation_response", schema=None) as batch_op:
        batch_op.drop_column("submitted_at")
    # Number questions have no place in the old types: they go with their answers.
    op.execute(
        "DELETE FROM evaluation_response WHERE question_id IN "
        "(SELECT id FROM question WHERE type = 'number')"
    )
    op.execute("DELETE FROM question WHERE type = 'number'")
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_question_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_question_type"), _types(OLD_TYPES))
        batch_op.drop_column("number_max")
        batch_op.drop_column("number_min")
