"""Retention decisions

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 16:17:10.992690
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('retention_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('disposition', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('cutoff', sa.Date(), nullable=False),
    sa.Column('record_ids', sa.JSON(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_decision'))
    )
    with op.batch_alter_table('retention_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_decision_kind'), ['kind'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('retention_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_decision_kind'))

    op.drop_table('retention_decision')
