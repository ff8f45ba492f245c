"""Participants (personal data apart), goals, pairs, meetings, follow-ups, rule findings;
programmes gain their follow-up and mentor-capacity rules, deviations a link to the pair.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:03:45.927271
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('mentor', 'mentee', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('field', sa.String(length=200), nullable=False),
    sa.Column('competence_needs', sa.Text(), nullable=False),
    sa.Column('career_goals', sa.Text(), nullable=False),
    sa.Column('screened_on', sa.Date(), nullable=True),
    sa.Column('screened_by', sa.String(length=200), nullable=True),
    sa.Column('training_modules', sa.JSON(), nullable=False),
    sa.Column('consent_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_participant_cohort_id_cohort')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant')),
    sa.UniqueConstraint('code', name=op.f('uq_participant_code'))
    )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('target_on', sa.Date(), nullable=True),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'achieved', 'dropped', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_goal_progress_percent')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_goal_participant_id_participant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal'))
    )
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_participant_id'), ['participant_id'], unique=False)

    op.create_table('pair',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('mentee_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('matched', 'active', 'completed', 'unwound', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('matched_on', sa.Date(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('closure_reason', sa.Text(), nullable=True),
    sa.Column('mentor_feedback', sa.Text(), nullable=True),
    sa.Column('mentee_feedback', sa.Text(), nullable=True),
    sa.Column('rematch_of_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('mentor_id <> mentee_id', name=op.f('ck_pair_two_people')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_pair_cohort_id_cohort')),
    sa.ForeignKeyConstraint(['mentee_id'], ['participant.id'], name=op.f('fk_pair_mentee_id_participant')),
    sa.ForeignKeyConstraint(['mentor_id'], ['participant.id'], name=op.f('fk_pair_mentor_id_participant')),
    sa.ForeignKeyConstraint(['rematch_of_id'], ['pair.id'], name=op.f('fk_pair_rematch_of_id_pair')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pair')),
    sa.UniqueConstraint('code', name=op.f('uq_pair_code'))
    )
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pair_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_mentee_id'), ['mentee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_mentor_id'), ['mentor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pair_status'), ['status'], unique=False)
        batch_op.create_index(
            'uq_pair_live_mentee',
            ['mentee_id'],
            unique=True,
            sqlite_where=sa.text("status IN ('matched', 'active')"),
            postgresql_where=sa.text("status IN ('matched', 'active')"),
        )

    op.create_table('participant_personal',
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_participant_personal_participant_id_participant')),
    sa.PrimaryKeyConstraint('participant_id', name=op.f('pk_participant_personal'))
    )
    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pair_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('mode', sa.Enum('in_person', 'video', 'phone', 'other', name='mode', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('topics', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('minutes > 0 AND minutes <= 1440', name=op.f('ck_meeting_minutes_in_a_day')),
    sa.ForeignKeyConstraint(['pair_id'], ['pair.id'], name=op.f('fk_meeting_pair_id_pair')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting'))
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_held_on'), ['held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_pair_id'), ['pair_id'], unique=False)

    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pair_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_on', sa.Date(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('held_by', sa.String(length=200), nullable=True),
    sa.Column('expectations_clarified', sa.Boolean(), nullable=True),
    sa.Column('goal_progress', sa.Integer(), nullable=True),
    sa.Column('meeting_frequency_kept', sa.Boolean(), nullable=True),
    sa.Column('relationship_rating', sa.Integer(), nullable=True),
    sa.Column('extra_support_needed', sa.Boolean(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('outcome', sa.Enum('on_track', 'concern', 'at_risk', name='outcome', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('decision', sa.Text(), nullable=True),
    sa.Column('deviation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('goal_progress IS NULL OR goal_progress BETWEEN 1 AND 5', name=op.f('ck_follow_up_goal_1_5')),
    sa.CheckConstraint('relationship_rating IS NULL OR relationship_rating BETWEEN 1 AND 5', name=op.f('ck_follow_up_rel_1_5')),
    sa.ForeignKeyConstraint(['deviation_id'], ['deviation.id'], name=op.f('fk_follow_up_deviation_id_deviation')),
    sa.ForeignKeyConstraint(['pair_id'], ['pair.id'], name=op.f('fk_follow_up_pair_id_pair')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up'))
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_pair_id'), ['pair_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_scheduled_on'), ['scheduled_on'], unique=False)

    op.create_table('rule_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('pair_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('found_on', sa.Date(), nullable=False),
    sa.Column('deviation_id', sa.Integer(), nullable=False),
    sa.Column('cleared_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['deviation_id'], ['deviation.id'], name=op.f('fk_rule_finding_deviation_id_deviation')),
    sa.ForeignKeyConstraint(['pair_id'], ['pair.id'], name=op.f('fk_rule_finding_pair_id_pair')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_finding')),
    sa.UniqueConstraint('key', name=op.f('uq_rule_finding_key'))
    )
    with op.batch_alter_table('deviation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pair_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_deviation_pair_id'), ['pair_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_deviation_pair_id_pair'), 'pair', ['pair_id'], ['id'])

    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('follow_up_at_midpoint', sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column('max_mentees_per_mentor', sa.Integer(), nullable=False, server_default='1')
        )
        batch_op.create_check_constraint(
            op.f('ck_programme_capacity_positive'), 'max_mentees_per_mentor >= 1'
        )



def downgrade() -> None:
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_programme_capacity_positive'), type_='check')
        batch_op.drop_column('max_mentees_per_mentor')
        batch_op.drop_column('follow_up_at_midpoint')

    with op.batch_alter_table('deviation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_deviation_pair_id_pair'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_deviation_pair_id'))
        batch_op.drop_column('pair_id')

    op.drop_table('rule_finding')
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_scheduled_on'))
        batch_op.drop_index(batch_op.f('ix_follow_up_pair_id'))

    op.drop_table('follow_up')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_pair_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_held_on'))

    op.drop_table('meeting')
    op.drop_table('participant_personal')
    with op.batch_alter_table('pair', schema=None) as batch_op:
        batch_op.drop_index('uq_pair_live_mentee')
        batch_op.drop_index(batch_op.f('ix_pair_status'))
        batch_op.drop_index(batch_op.f('ix_pair_mentor_id'))
        batch_op.drop_index(batch_op.f('ix_pair_mentee_id'))
        batch_op.drop_index(batch_op.f('ix_pair_cohort_id'))

    op.drop_table('pair')
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_participant_id'))

    op.drop_table('goal')
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_cohort_id'))

    op.drop_table('participant')
