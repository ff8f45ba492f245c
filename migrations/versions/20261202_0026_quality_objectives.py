"""quality objectives and the indicators that measure them

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("planned", "in_progress", "achieved", "not_achieved", "withdrawn")


def upgrade() -> None:
    """Make the tables."""
    op.create_table(
        "quality_objective",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="status", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("resources", sa.Text(), nullable=True),
        sa.Column("responsible", sa.String(length=200), nullable=True),
        sa.Column("evaluation", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("result_note", sa.Text(), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.Column("requirements", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["user_account.id"],
            name=op.f("fk_quality_objective_owner_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_quality_objective_programme_id_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_objective")),
        sa.UniqueConstraint("number", name=op.f("uq_quality_objective_number")),
        sa.UniqueConstraint("year", "seq", name=op.f("uq_quality_objective_year_seq")),
    )
    with op.batch_alter_table("quality_objective", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_objective_due_on"), ["due_on"])
        batch_op.create_index(batch_op.f("ix_quality_objective_owner_id"), ["owner_id"])
        batch_op.create_index(batch_op.f("ix_quality_objective_programme_id"), ["programme_id"])
        batch_op.create_index(batch_op.f("ix_quality_objective_status"), ["status"])
    op.create_table(
        "objective_indicator",
        sa.Column("objective_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicator.id"],
            name=op.f("fk_objective_indicator_indicator_id_indicator"),
        ),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["quality_objective.id"],
            name=op.f("fk_objective_indicator_objective_id_quality_objective"),
        ),
        sa.PrimaryKeyConstraint(
            "objective_id", "indicator_id", name=op.f("pk_objective_indicator")
        ),
    )
    with op.batch_alter_table("objective_indicator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objective_indicator_indicator_id"), ["indicator_id"])


def downgrade() -> None:
    """Drop the tables."""
    with op.batch_alter_table("objective_indicator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objective_indicator_indicator_id"))
    op.drop_table("objective_indicator")
    with op.batch_alter_table("quality_objective", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_objective_status"))
        batch_op.drop_index(batch_op.f("ix_quality_objective_programme_id"))
        batch_op.drop_index(batch_op.f("ix_quality_objective_owner_id"))
        batch_op.drop_index(batch_op.f("ix_quality_objective_due_on"))
    op.drop_table("quality_objective")
