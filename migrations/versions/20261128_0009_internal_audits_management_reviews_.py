"""Internal audits, management reviews, and requirement references on deviations, actions and
follow-ups.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 16:11:20.809570
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('internal_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('procedure_codes', sa.JSON(), nullable=False),
    sa.Column('auditors', sa.JSON(), nullable=False),
    sa.Column('auditees', sa.JSON(), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'reported', 'closed', 'cancelled', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('strong_points', sa.Text(), nullable=False),
    sa.Column('improvement_points', sa.Text(), nullable=False),
    sa.Column('conclusion', sa.Text(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_internal_audit_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_internal_audit')),
    sa.UniqueConstraint('number', name=op.f('uq_internal_audit_number')),
    sa.UniqueConstraint('year', 'seq', name=op.f('uq_internal_audit_year_seq'))
    )
    with op.batch_alter_table('internal_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_internal_audit_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_internal_audit_start_on'), ['start_on'], unique=False)

    op.create_table('management_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('participants', sa.JSON(), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=True),
    sa.Column('conclusion', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'held', 'closed', 'cancelled', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_management_review_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_management_review')),
    sa.UniqueConstraint('number', name=op.f('uq_management_review_number')),
    sa.UniqueConstraint('year', 'seq', name=op.f('uq_management_review_year_seq'))
    )
    with op.batch_alter_table('management_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_management_review_planned_on'), ['planned_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_management_review_programme_id'), ['programme_id'], unique=False)

    op.create_table('review_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('improvement', 'change', 'resources', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['corrective_action.id'], name=op.f('fk_review_decision_action_id_corrective_action')),
    sa.ForeignKeyConstraint(['review_id'], ['management_review.id'], name=op.f('fk_review_decision_review_id_management_review')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_decision')),
    sa.UniqueConstraint('review_id', 'position', name=op.f('uq_review_decision_review_id_position'))
    )
    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_decision_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_decision_review_id'), ['review_id'], unique=False)

    op.create_table('audit_checklist_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('procedure_id', sa.Integer(), nullable=True),
    sa.Column('requirement', sa.String(length=64), nullable=True),
    sa.Column('conforms', sa.Enum('yes', 'no', 'not_applicable', name='conforms', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('deviation_id', sa.Integer(), nullable=True),
    sa.Column('answered_by', sa.String(length=200), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['internal_audit.id'], name=op.f('fk_audit_checklist_line_audit_id_internal_audit')),
    sa.ForeignKeyConstraint(['deviation_id'], ['deviation.id'], name=op.f('fk_audit_checklist_line_deviation_id_deviation')),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedure.id'], name=op.f('fk_audit_checklist_line_procedure_id_procedure')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checklist_line')),
    sa.UniqueConstraint('audit_id', 'position', name=op.f('uq_audit_checklist_line_audit_id_position'))
    )
    with op.batch_alter_table('audit_checklist_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_checklist_line_audit_id'), ['audit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_checklist_line_deviation_id'), ['deviation_id'], unique=False)

    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requirements', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('deviation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requirements', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requirements', sa.JSON(), nullable=False, server_default='[]'))



def downgrade() -> None:
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_column('requirements')

    with op.batch_alter_table('deviation', schema=None) as batch_op:
        batch_op.drop_column('requirements')

    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.drop_column('requirements')

    with op.batch_alter_table('audit_checklist_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_checklist_line_deviation_id'))
        batch_op.drop_index(batch_op.f('ix_audit_checklist_line_audit_id'))

    op.drop_table('audit_checklist_line')
    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_decision_review_id'))
        batch_op.drop_index(batch_op.f('ix_review_decision_action_id'))

    op.drop_table('review_decision')
    with op.batch_alter_table('management_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_management_review_programme_id'))
        batch_op.drop_index(batch_op.f('ix_management_review_planned_on'))

    op.drop_table('management_review')
    with op.batch_alter_table('internal_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_internal_audit_start_on'))
        batch_op.drop_index(batch_op.f('ix_internal_audit_programme_id'))

    op.drop_table('internal_audit')
