"""Import batches can be rolled back (and the same content imported again after);
deviations gain the source indicator.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 14:58:15.507651
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = ["follow_up", "evaluation", "meeting_rule", "internal_audit", "complaint", "self_reported"]


def _sources(values: list[str]) -> str:
    return "source IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table('evaluation_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rolled_back_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rolled_back_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('rollback_reason', sa.Text(), nullable=True))
        batch_op.drop_index('uq_evaluation_batch_content')
        batch_op.create_index(
            'uq_evaluation_batch_content', ['kind', 'sha256'], unique=True,
            sqlite_where=sa.text('rolled_back_at IS NULL'),
            postgresql_where=sa.text('rolled_back_at IS NULL'),
        )
    with op.batch_alter_table('deviation', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_deviation_source'), type_='check')
        batch_op.create_check_constraint(op.f('ck_deviation_source'), _sources([*SOURCES, 'indicator']))



def downgrade() -> None:
    op.execute("UPDATE deviation SET source = 'evaluation' WHERE source = 'indicator'")
    with op.batch_alter_table('deviation', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_deviation_source'), type_='check')
        batch_op.create_check_constraint(op.f('ck_deviation_source'), _sources(SOURCES))
    op.execute(
        "DELETE FROM evaluation_batch WHERE rolled_back_at IS NOT NULL AND id NOT IN "
        "(SELECT batch_id FROM outcome WHERE batch_id IS NOT NULL)"
    )
    with op.batch_alter_table('evaluation_batch', schema=None) as batch_op:
        batch_op.drop_index('uq_evaluation_batch_content')
        batch_op.create_index('uq_evaluation_batch_content', ['kind', 'sha256'], unique=True)
        batch_op.drop_column('rollback_reason')
        batch_op.drop_column('rolled_back_by')
        batch_op.drop_column('rolled_back_at')

