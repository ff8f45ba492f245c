"""the organisation's context, interested parties, scope of the quality system, and the quality policy

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _reviewed() -> list[sa.Column[object]]:
    return [
        sa.Column("next_review_on", sa.Date(), nullable=False),
        sa.Column("last_reviewed_on", sa.Date(), nullable=True),
        sa.Column("last_reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    """Make the tables."""
    op.create_table(
        "context_issue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("effect", sa.Text(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        *_reviewed(),
        sa.CheckConstraint(
            "origin IN ('internal', 'external')", name=op.f("ck_context_issue_origin")
        ),
        sa.CheckConstraint(
            "status IN ('current', 'no_longer_relevant')", name=op.f("ck_context_issue_status")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_context_issue_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_issue")),
        sa.UniqueConstraint("number", name=op.f("uq_context_issue_number")),
        sa.UniqueConstraint("year", "seq", name=op.f("uq_context_issue_year_seq")),
    )
    with op.batch_alter_table("context_issue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_context_issue_programme_id"), ["programme_id"])
        batch_op.create_index(batch_op.f("ix_context_issue_next_review_on"), ["next_review_on"])
    op.create_table(
        "interested_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("how_met", sa.Text(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        *_reviewed(),
        sa.CheckConstraint(
            "kind IN ('mentees', 'mentors', 'employers', 'funders', 'employment_service', "
            "'partner_organisation', 'other')",
            name=op.f("ck_interested_party_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_interested_party_programme_id_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interested_party")),
        sa.UniqueConstraint("number", name=op.f("uq_interested_party_number")),
        sa.UniqueConstraint("year", "seq", name=op.f("uq_interested_party_year_seq")),
    )
    with op.batch_alter_table("interested_party", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interested_party_programme_id"), ["programme_id"])
        batch_op.create_index(batch_op.f("ix_interested_party_next_review_on"), ["next_review_on"])
    op.create_table(
        "quality_scope",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coverage", sa.Text(), nullable=False),
        sa.Column("exclusions", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_scope")),
    )


def downgrade() -> None:
    """Drop the tables."""
    op.drop_table("quality_scope")
    with op.batch_alter_table("interested_party", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interested_party_next_review_on"))
        batch_op.drop_index(batch_op.f("ix_interested_party_programme_id"))
    op.drop_table("interested_party")
    with op.batch_alter_table("context_issue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_context_issue_next_review_on"))
        batch_op.drop_index(batch_op.f("ix_context_issue_programme_id"))
    op.drop_table("context_issue")
