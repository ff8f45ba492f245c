"""Deviations and corrective actions, their numbering, and signatures.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:54:04.722912
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('number_sequence',
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', 'year', name=op.f('pk_number_sequence'))
    )
    op.create_table('signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('meaning', sa.Enum('verified', 'approved', 'reviewed', 'closed', name='meaning', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=True),
    sa.Column('signer', sa.String(length=200), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['signer_id'], ['user_account.id'], name=op.f('fk_signature_signer_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signature'))
    )
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.create_index('ix_signature_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('corrective_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('correction', 'corrective', 'preventive', name='type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', 'verified_effective', 'ineffective', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('root_cause_method', sa.Enum('five_whys', 'fishbone', 'other', name='root_cause_method', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('root_cause', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('effectiveness_check_on', sa.Date(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completion_note', sa.Text(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_by', sa.String(length=200), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('signature_id', sa.Integer(), nullable=True),
    sa.Column('follows_action_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['follows_action_id'], ['corrective_action.id'], name=op.f('fk_corrective_action_follows_action_id_corrective_action')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_corrective_action_owner_id_user_account')),
    sa.ForeignKeyConstraint(['signature_id'], ['signature.id'], name=op.f('fk_corrective_action_signature_id_signature')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['user_account.id'], name=op.f('fk_corrective_action_verified_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corrective_action')),
    sa.UniqueConstraint('number', name=op.f('uq_corrective_action_number')),
    sa.UniqueConstraint('year', 'seq', name=op.f('uq_corrective_action_year_seq'))
    )
    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrective_action_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrective_action_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrective_action_status'), ['status'], unique=False)

    op.create_table('deviation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('nonconformity', 'deviation_from_plan', 'observation', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('source', sa.Enum('follow_up', 'evaluation', 'meeting_rule', 'internal_audit', 'complaint', 'self_reported', name='source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('severity', sa.Enum('minor', 'major', 'critical', name='severity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('open', 'investigating', 'action_required', 'closed', 'reopened', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('immediate_containment', sa.Text(), nullable=True),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('iso_clause', sa.String(length=16), nullable=True),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detected_by', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('root_cause_method', sa.Enum('five_whys', 'fishbone', 'other', name='root_cause_method', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('root_cause', sa.Text(), nullable=True),
    sa.Column('closure_summary', sa.Text(), nullable=True),
    sa.Column('no_action_reason', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reported_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_deviation_cohort_id_cohort')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_deviation_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deviation')),
    sa.UniqueConstraint('number', name=op.f('uq_deviation_number')),
    sa.UniqueConstraint('year', 'seq', name=op.f('uq_deviation_year_seq'))
    )
    with op.batch_alter_table('deviation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deviation_detected_at'), ['detected_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deviation_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deviation_severity'), ['severity'], unique=False)
        batch_op.create_index(batch_op.f('ix_deviation_status'), ['status'], unique=False)

    op.create_table('deviation_action',
    sa.Column('deviation_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['corrective_action.id'], name=op.f('fk_deviation_action_action_id_corrective_action')),
    sa.ForeignKeyConstraint(['deviation_id'], ['deviation.id'], name=op.f('fk_deviation_action_deviation_id_deviation')),
    sa.PrimaryKeyConstraint('deviation_id', 'action_id', name=op.f('pk_deviation_action'))
    )
    with op.batch_alter_table('deviation_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deviation_action_action_id'), ['action_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('deviation_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deviation_action_action_id'))

    op.drop_table('deviation_action')
    with op.batch_alter_table('deviation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deviation_status'))
        batch_op.drop_index(batch_op.f('ix_deviation_severity'))
        batch_op.drop_index(batch_op.f('ix_deviation_programme_id'))
        batch_op.drop_index(batch_op.f('ix_deviation_detected_at'))

    op.drop_table('deviation')
    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrective_action_status'))
        batch_op.drop_index(batch_op.f('ix_corrective_action_owner_id'))
        batch_op.drop_index(batch_op.f('ix_corrective_action_due_on'))

    op.drop_table('corrective_action')
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index('ix_signature_entity')

    op.drop_table('signature')
    op.drop_table('number_sequence')
