"""Import batches belong to a programme, and every problem of a batch's rows is kept

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The programmes of a batch's rows, answers and outcomes alike.
_ROW_PROGRAMMES = """
    SELECT c.programme_id FROM {table} r
    JOIN participant p ON p.id = r.participant_id
    JOIN cohort c ON c.id = p.cohort_id
    WHERE r.batch_id = evaluation_batch.id
"""
_PROGRAMMES = (
    _ROW_PROGRAMMES.format(table="evaluation_response")
    + " UNION "
    + _ROW_PROGRAMMES.format(table="outcome")
)


def upgrade() -> None:
    with op.batch_alter_table("evaluation_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("programme_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_evaluation_batch_programme_id_programme"),
            "programme",
            ["programme_id"],
            ["id"],
        )
        batch_op.create_index(
            op.f("ix_evaluation_batch_programme_id"), ["programme_id"], unique=False
        )
    # A batch from before takes the programme of its rows when they are all of one; a batch
    # whose rows mixed programmes keeps none, and only readers of every programme see it.
    op.execute(
        "UPDATE evaluation_batch SET programme_id = "
        f"(SELECT MIN(programme_id) FROM ({_PROGRAMMES}) AS found) "
        f"WHERE (SELECT COUNT(*) FROM ({_PROGRAMMES}) AS found) = 1"
    )
    op.create_table(
        "import_problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("column", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["evaluation_batch.id"],
            name=op.f("fk_import_problem_batch_id_evaluation_batch"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_problem")),
    )
    op.create_index(op.f("ix_import_problem_batch_id"), "import_problem", ["batch_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_import_problem_batch_id"), table_name="import_problem")
    op.drop_table("import_problem")
    with op.batch_alter_table("evaluation_batch", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_evaluation_batch_programme_id"))
        batch_op.drop_constraint(
            op.f("fk_evaluation_batch_programme_id_programme"), type_="foreignkey"
        )
        batch_op.drop_column("programme_id")
