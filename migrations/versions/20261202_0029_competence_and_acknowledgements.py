"""competences each role needs, training records, and read-and-understood acknowledgements

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_REMINDER_KINDS = (
    "assigned",
    "due_soon",
    "overdue",
    "approval_waiting",
    "follow_up_due",
    "procedure_review_due",
    "deviation_opened_by_rule",
)
REMINDER_KINDS = (*OLD_REMINDER_KINDS, "acknowledgement_due")
OLD_EVIDENCE_RECORDS = (
    "deviation",
    "action",
    "checklist_line",
    "follow_up",
    "management_review",
    "procedure",
)
EVIDENCE_RECORDS = (*OLD_EVIDENCE_RECORDS, "training_record")
# A version approved before acknowledgements existed names its owner role, as a new one does.
OWNER_ROLE = {
    "sqlite": "UPDATE procedure_version SET acknowledge_roles = json_array(owner_role)",
    "postgresql": "UPDATE procedure_version SET acknowledge_roles = json_build_array(owner_role)",
}


def _among(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _set_checks(kinds: Sequence[str], records: Sequence[str]) -> None:
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reminder_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reminder_kind"), _among("kind", kinds))
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_evidence_file_record"), type_="check")
        batch_op.create_check_constraint(op.f("ck_evidence_file_record"), _among("record", records))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's batch copies the table anew, without the trigger that keeps files unchanged.
        op.execute("DROP TRIGGER IF EXISTS evidence_file_no_update")
        op.execute(
            "CREATE TRIGGER evidence_file_no_update BEFORE UPDATE ON evidence_file "
            "BEGIN SELECT RAISE(ABORT, 'evidence_file is never changed'); END"
        )


def upgrade() -> None:
    op.create_table(
        "competence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "coordinator",
                "quality_lead",
                "mentor",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "obtained_by",
            sa.Enum(
                "training",
                "experience",
                "education",
                name="obtained_by",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("renewal_months", sa.Integer(), nullable=True),
        sa.Column("before_matching", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competence")),
        sa.UniqueConstraint("code", name=op.f("uq_competence_code")),
    )
    with op.batch_alter_table("competence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_competence_role"), ["role"], unique=False)
    op.create_table(
        "training_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("competence_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("given_by", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (participant_id IS NULL)",
            name=op.f("ck_training_record_one_person"),
        ),
        sa.ForeignKeyConstraint(
            ["competence_id"],
            ["competence.id"],
            name=op.f("fk_training_record_competence_id_competence"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_training_record_participant_id_participant"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_training_record_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_record")),
        sa.UniqueConstraint("number", name=op.f("uq_training_record_number")),
    )
    with op.batch_alter_table("training_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_record_competence_id"), ["competence_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_training_record_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_training_record_user_id"), ["user_id"], unique=False)
    op.create_table(
        "acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("procedure_version_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["procedure_version_id"],
            ["procedure_version.id"],
            name=op.f("fk_acknowledgement_procedure_version_id_procedure_version"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_acknowledgement_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acknowledgement")),
        sa.UniqueConstraint(
            "procedure_version_id",
            "user_id",
            name=op.f("uq_acknowledgement_procedure_version_id_user_id"),
        ),
    )
    with op.batch_alter_table("acknowledgement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_acknowledgement_due_on"), ["due_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_acknowledgement_procedure_version_id"),
            ["procedure_version_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_acknowledgement_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("procedure_version", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("acknowledge_roles", sa.JSON(), server_default="[]", nullable=False)
        )
    statement = OWNER_ROLE.get(op.get_bind().dialect.name)
    if statement is not None:
        op.execute(statement)
    _set_checks(REMINDER_KINDS, EVIDENCE_RECORDS)


def downgrade() -> None:
    # Reminders of the new kind and files on training records go with what they point at.
    op.execute("DELETE FROM reminder WHERE kind = 'acknowledgement_due'")
    op.execute("DELETE FROM evidence_file WHERE record = 'training_record'")
    _set_checks(OLD_REMINDER_KINDS, OLD_EVIDENCE_RECORDS)
    with op.batch_alter_table("procedure_version", schema=None) as batch_op:
        batch_op.drop_column("acknowledge_roles")
    with op.batch_alter_table("acknowledgement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_acknowledgement_user_id"))
        batch_op.drop_index(batch_op.f("ix_acknowledgement_procedure_version_id"))
        batch_op.drop_index(batch_op.f("ix_acknowledgement_due_on"))
    op.drop_table("acknowledgement")
    with op.batch_alter_table("training_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_record_user_id"))
        batch_op.drop_index(batch_op.f("ix_training_record_participant_id"))
        batch_op.drop_index(batch_op.f("ix_training_record_competence_id"))
    op.drop_table("training_record")
    with op.batch_alter_table("competence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_competence_role"))
    op.drop_table("competence")
