"""Evaluation instruments and questions, import batches, imported answers and outcomes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 14:39:50.597202
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('instrument',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('respondent', sa.Enum('mentor', 'mentee', 'both', name='respondent', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument')),
    sa.UniqueConstraint('code', name=op.f('uq_instrument_code'))
    )
    op.create_table('evaluation_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('evaluations', 'outcomes', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('shape', sa.String(length=8), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_written', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.JSON(), nullable=False),
    sa.Column('importer', sa.String(length=200), nullable=False),
    sa.Column('importer_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['importer_id'], ['user_account.id'], name=op.f('fk_evaluation_batch_importer_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_batch')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_evaluation_batch_idempotency_key'))
    )
    with op.batch_alter_table('evaluation_batch', schema=None) as batch_op:
        batch_op.create_index('uq_evaluation_batch_content', ['kind', 'sha256'], unique=True)

    op.create_table('question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('type', sa.Enum('scale', 'choice', 'text', name='type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('scale_min', sa.Integer(), nullable=True),
    sa.Column('scale_max', sa.Integer(), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], name=op.f('fk_question_instrument_id_instrument')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question')),
    sa.UniqueConstraint('instrument_id', 'code', name=op.f('uq_question_instrument_id_code'))
    )
    op.create_table('evaluation_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value_number', sa.Float(), nullable=True),
    sa.Column('value_text', sa.Text(), nullable=True),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['evaluation_batch.id'], name=op.f('fk_evaluation_response_batch_id_evaluation_batch')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_evaluation_response_participant_id_participant')),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_evaluation_response_question_id_question')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_response')),
    sa.UniqueConstraint('participant_id', 'question_id', 'submitted_on', name=op.f('uq_evaluation_response_participant_id_question_id_submitted_on'))
    )
    with op.batch_alter_table('evaluation_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_response_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_response_question_id'), ['question_id'], unique=False)

    op.create_table('outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('employed_full_time', 'employed_part_time', 'education', 'job_seeking', 'other', name='outcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('outcome_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['evaluation_batch.id'], name=op.f('fk_outcome_batch_id_evaluation_batch')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_outcome_participant_id_participant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome')),
    sa.UniqueConstraint('participant_id', 'outcome_on', name=op.f('uq_outcome_participant_id_outcome_on'))
    )
    with op.batch_alter_table('outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcome_participant_id'), ['participant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_participant_id'))
        batch_op.drop_index(batch_op.f('ix_outcome_batch_id'))

    op.drop_table('outcome')
    with op.batch_alter_table('evaluation_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_response_question_id'))
        batch_op.drop_index(batch_op.f('ix_evaluation_response_batch_id'))

    op.drop_table('evaluation_response')
    op.drop_table('question')
    with op.batch_alter_table('evaluation_batch', schema=None) as batch_op:
        batch_op.drop_index('uq_evaluation_batch_content')

    op.drop_table('evaluation_batch')
    op.drop_table('instrument')
