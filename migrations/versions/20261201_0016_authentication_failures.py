"""failed authentication counted per user and client

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auth_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('in_a_row', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('unreported', sa.Integer(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_unreported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_auth_failure_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_failure')),
    sa.UniqueConstraint('via', 'subject', 'client', name=op.f('uq_auth_failure_via_subject_client'))
    )
    with op.batch_alter_table('auth_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_failure_user_id'), ['user_id'], unique=False)

    # A user's failures in a row locked them out from everywhere; they are counted per client
    # address now. The counts of before were for a wait of at most 15 minutes: not carried over.
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('failed_sign_ins')
        batch_op.drop_column('last_failed_sign_in_at')



def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_failed_sign_in_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_sign_ins', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('auth_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_failure_user_id'))

    op.drop_table('auth_failure')
