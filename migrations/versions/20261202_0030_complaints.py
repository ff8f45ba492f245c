"""complaints, with the complainant kept apart as personal data

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-02 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    """Make the tables."""
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column(
            "channel",
            _enum("channel", "email", "phone", "letter", "in_person", "web", "other"),
            nullable=False,
        ),
        sa.Column(
            "complainant_category",
            _enum(
                "complainant_category", "mentee", "mentor", "employer", "partner", "funder", "other"
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            _enum("status", "received", "acknowledged", "answered", "closed", "withdrawn"),
            nullable=False,
        ),
        sa.Column("acknowledge_due_on", sa.Date(), nullable=False),
        sa.Column("answer_due_on", sa.Date(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column(
            "outcome", _enum("outcome", "upheld", "partly_upheld", "not_upheld"), nullable=True
        ),
        sa.Column("deviation_id", sa.Integer(), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deviation_id"], ["deviation.id"], name=op.f("fk_complaint_deviation_id_deviation")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_complaint_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("number", name=op.f("uq_complaint_number")),
        sa.UniqueConstraint("year", "seq", name=op.f("uq_complaint_year_seq")),
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_deviation_id"), ["deviation_id"])
        batch_op.create_index(batch_op.f("ix_complaint_programme_id"), ["programme_id"])
        batch_op.create_index(batch_op.f("ix_complaint_received_on"), ["received_on"])
        batch_op.create_index(batch_op.f("ix_complaint_status"), ["status"])
    op.create_table(
        "complainant",
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("contact_consent", sa.Boolean(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaint.id"], name=op.f("fk_complainant_complaint_id_complaint")
        ),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_complainant")),
    )


def downgrade() -> None:
    """Drop the tables."""
    op.drop_table("complainant")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_status"))
        batch_op.drop_index(batch_op.f("ix_complaint_received_on"))
        batch_op.drop_index(batch_op.f("ix_complaint_programme_id"))
        batch_op.drop_index(batch_op.f("ix_complaint_deviation_id"))
    op.drop_table("complaint")
