"""Controlled procedures and their versions; deviations link to a procedure version.

The database refuses to change the text or front matter of an approved, superseded or obsolete
version (a trigger on SQLite and on PostgreSQL).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 14:19:23.231385
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FROZEN = ("content", "content_sha256", "title", "owner_role", "review_months", "iso_clauses",
          "requirements")
CLOSED = "('approved', 'superseded', 'obsolete')"
MESSAGE = "an approved procedure version is immutable"
FREEZE = {
    "sqlite": [
        f"CREATE TRIGGER procedure_version_frozen BEFORE UPDATE OF {', '.join(FROZEN)} "
        f"ON procedure_version WHEN OLD.status IN {CLOSED} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION procedure_version_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF OLD.status IN {CLOSED} AND ("
        + " OR ".join(f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in FROZEN)
        + f") THEN RAISE EXCEPTION '{MESSAGE}'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER procedure_version_frozen BEFORE UPDATE ON procedure_version "
        "FOR EACH ROW EXECUTE FUNCTION procedure_version_frozen()",
    ],
}
UNFREEZE = {
    "sqlite": ["DROP TRIGGER IF EXISTS procedure_version_frozen"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS procedure_version_frozen ON procedure_version",
        "DROP FUNCTION IF EXISTS procedure_version_frozen()",
    ],
}


def upgrade() -> None:
    op.create_table('procedure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procedure')),
    sa.UniqueConstraint('code', name=op.f('uq_procedure_code'))
    )
    op.create_table('procedure_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('procedure_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'in_review', 'approved', 'superseded', 'obsolete', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_role', sa.Enum('admin', 'quality_lead', 'coordinator', 'auditor', 'importer', name='owner_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('review_months', sa.Integer(), nullable=False),
    sa.Column('iso_clauses', sa.JSON(), nullable=False),
    sa.Column('requirements', sa.JSON(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('change_summary', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('next_review_on', sa.Date(), nullable=True),
    sa.Column('last_reviewed_on', sa.Date(), nullable=True),
    sa.Column('signature_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_procedure_version_author_id_user_account')),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedure.id'], name=op.f('fk_procedure_version_procedure_id_procedure')),
    sa.ForeignKeyConstraint(['signature_id'], ['signature.id'], name=op.f('fk_procedure_version_signature_id_signature')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procedure_version')),
    sa.UniqueConstraint('procedure_id', 'number', name=op.f('uq_procedure_version_procedure_id_number'))
    )
    with op.batch_alter_table('procedure_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_procedure_version_next_review_on'), ['next_review_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_procedure_version_procedure_id'), ['procedure_id'], unique=False)
        batch_op.create_index('uq_procedure_version_open', ['procedure_id'], unique=True, sqlite_where=sa.text("status IN ('draft', 'in_review')"), postgresql_where=sa.text("status IN ('draft', 'in_review')"))

    for statement in FREEZE[op.get_bind().dialect.name]:
        op.execute(statement)

    with op.batch_alter_table('deviation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('procedure_version_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_deviation_procedure_version_id'), ['procedure_version_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_deviation_procedure_version_id_procedure_version'), 'procedure_version', ['procedure_version_id'], ['id'])



def downgrade() -> None:
    for statement in UNFREEZE[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table('deviation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_deviation_procedure_version_id_procedure_version'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_deviation_procedure_version_id'))
        batch_op.drop_column('procedure_version_id')

    with op.batch_alter_table('procedure_version', schema=None) as batch_op:
        batch_op.drop_index('uq_procedure_version_open', sqlite_where=sa.text("status IN ('draft', 'in_review')"), postgresql_where=sa.text("status IN ('draft', 'in_review')"))
        batch_op.drop_index(batch_op.f('ix_procedure_version_procedure_id'))
        batch_op.drop_index(batch_op.f('ix_procedure_version_next_review_on'))

    op.drop_table('procedure_version')
    op.drop_table('procedure')
