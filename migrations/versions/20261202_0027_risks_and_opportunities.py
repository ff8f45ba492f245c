"""the register of risks and opportunities, their treatment and actions

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "risk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("kind", "risk", "opportunity"), nullable=False),
        sa.Column(
            "status", _enum("status", "open", "treated", "realised", "closed"), nullable=False
        ),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("likelihood", sa.Integer(), nullable=False),
        sa.Column("consequence", sa.Integer(), nullable=False),
        sa.Column(
            "treatment",
            _enum("treatment", "reduce", "avoid", "share", "accept", "pursue", "decline"),
            nullable=True,
        ),
        sa.Column("treatment_plan", sa.Text(), nullable=True),
        sa.Column("treatment_reason", sa.Text(), nullable=True),
        sa.Column("residual_likelihood", sa.Integer(), nullable=True),
        sa.Column("residual_consequence", sa.Integer(), nullable=True),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requirements", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_risk_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_risk_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk")),
        sa.UniqueConstraint("number", name=op.f("uq_risk_number")),
        sa.UniqueConstraint("kind", "year", "seq", name=op.f("uq_risk_kind_year_seq")),
    )
    with op.batch_alter_table("risk", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_risk_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_risk_programme_id"), ["programme_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_risk_review_on"), ["review_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_risk_status"), ["status"], unique=False)
    op.create_table(
        "risk_action",
        sa.Column("risk_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["corrective_action.id"],
            name=op.f("fk_risk_action_action_id_corrective_action"),
        ),
        sa.ForeignKeyConstraint(["risk_id"], ["risk.id"], name=op.f("fk_risk_action_risk_id_risk")),
        sa.PrimaryKeyConstraint("risk_id", "action_id", name=op.f("pk_risk_action")),
    )
    with op.batch_alter_table("risk_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_action_action_id"), ["action_id"], unique=False)
    with op.batch_alter_table("deviation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("risk_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_deviation_risk_id"), ["risk_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_deviation_risk_id_risk"), "risk", ["risk_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("deviation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_deviation_risk_id_risk"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_deviation_risk_id"))
        batch_op.drop_column("risk_id")
    with op.batch_alter_table("risk_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_action_action_id"))
    op.drop_table("risk_action")
    with op.batch_alter_table("risk", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_status"))
        batch_op.drop_index(batch_op.f("ix_risk_review_on"))
        batch_op.drop_index(batch_op.f("ix_risk_programme_id"))
        batch_op.drop_index(batch_op.f("ix_risk_owner_id"))
        batch_op.drop_index(batch_op.f("ix_risk_kind"))
    op.drop_table("risk")
