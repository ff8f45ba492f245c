"""reminders by e-mail: users' addresses, languages and opt-outs, the send log, the daily jobs

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "assigned",
    "due_soon",
    "overdue",
    "approval_waiting",
    "follow_up_due",
    "procedure_review_due",
    "deviation_opened_by_rule",
)


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch_op.add_column(
            sa.Column("reminder_opt_outs", sa.JSON(), server_default="[]", nullable=False)
        )
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="kind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("record", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("link", sa.String(length=200), nullable=False),
        sa.Column("queued_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_reminder_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder")),
        sa.UniqueConstraint(
            "user_id",
            "kind",
            "record",
            "record_id",
            "queued_on",
            name=op.f("uq_reminder_user_id_kind_record_record_id_queued_on"),
        ),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_queued_on"), ["queued_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_user_id"), ["user_id"], unique=False)
    op.create_table(
        "job_run",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_run_on", sa.Date(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder", sa.String(length=100), nullable=True),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_run")),
    )


def downgrade() -> None:
    op.drop_table("job_run")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_user_id"))
        batch_op.drop_index(batch_op.f("ix_reminder_queued_on"))
    op.drop_table("reminder")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("reminder_opt_outs")
        batch_op.drop_column("language")
        batch_op.drop_column("email")
