"""external providers, their evaluations, and deviations raised against them

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("partner_organisation", "training_provider", "funder", "referrer", "venue", "other")
STATUSES = ("approved", "conditional", "suspended", "ended")
DECISIONS = ("keep_approved", "conditional", "suspend", "end")

# An evaluation is never changed once recorded: a correction is a new evaluation.
NO_UPDATE = {
    "sqlite": [
        "CREATE TRIGGER provider_evaluation_no_update BEFORE UPDATE ON provider_evaluation "
        "BEGIN SELECT RAISE(ABORT, 'provider_evaluation is never changed'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION provider_evaluation_never_changed() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RAISE EXCEPTION '% is never changed', TG_TABLE_NAME; END $$",
        "CREATE TRIGGER provider_evaluation_no_update BEFORE UPDATE ON provider_evaluation "
        "FOR EACH ROW EXECUTE FUNCTION provider_evaluation_never_changed()",
    ],
}
DROP_NO_UPDATE = {
    "sqlite": ["DROP TRIGGER IF EXISTS provider_evaluation_no_update"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS provider_evaluation_no_update ON provider_evaluation",
        "DROP FUNCTION IF EXISTS provider_evaluation_never_changed()",
    ],
}


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    """Make the tables."""
    op.create_table(
        "provider",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", _enum(KINDS, "kind"), nullable=False),
        sa.Column("provides", sa.Text(), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("status", _enum(STATUSES, "status"), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("evaluation_months", sa.Integer(), nullable=False),
        sa.Column("next_evaluation_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_provider_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider")),
        sa.UniqueConstraint("code", name=op.f("uq_provider_code")),
    )
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_programme_id"), ["programme_id"])
        batch_op.create_index(batch_op.f("ix_provider_status"), ["status"])
        batch_op.create_index(batch_op.f("ix_provider_next_evaluation_on"), ["next_evaluation_on"])
    op.create_table(
        "provider_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("evaluated_by", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("decision", _enum(DECISIONS, "decision"), nullable=False),
        sa.Column("next_evaluation_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_provider_evaluation_score")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_provider_evaluation_provider_id_provider"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_evaluation")),
    )
    with op.batch_alter_table("provider_evaluation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_evaluation_provider_id"), ["provider_id"])
    with op.batch_alter_table("deviation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_deviation_provider_id"), ["provider_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_deviation_provider_id_provider"), "provider", ["provider_id"], ["id"]
        )
    for statement in NO_UPDATE.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    """Drop the tables."""
    for statement in DROP_NO_UPDATE.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table("deviation", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deviation_provider_id_provider"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_deviation_provider_id"))
        batch_op.drop_column("provider_id")
    with op.batch_alter_table("provider_evaluation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_evaluation_provider_id"))
    op.drop_table("provider_evaluation")
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_next_evaluation_on"))
        batch_op.drop_index(batch_op.f("ix_provider_status"))
        batch_op.drop_index(batch_op.f("ix_provider_programme_id"))
    op.drop_table("provider")
