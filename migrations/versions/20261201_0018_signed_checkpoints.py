"""signed checkpoints of the audit trail; events only ever appended as the next one

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64

# An event goes in only as the next one, linked to the newest: INSERT OR REPLACE (which fires no
# DELETE trigger on SQLite) and an event slipped in between are refused like UPDATE and DELETE.
NEXT_ONLY = {
    "sqlite": [
        "CREATE TRIGGER audit_event_next_only BEFORE INSERT ON audit_event "
        "WHEN NEW.seq != (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_event) "
        f"OR NEW.prev_hash != COALESCE((SELECT hash FROM audit_event ORDER BY seq DESC LIMIT 1), "
        f"'{GENESIS_HASH}') "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: only the next event may be "
        "added'); END",
        "CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint "
        "BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END",
        "CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint "
        "BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION audit_event_next_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE newest audit_event%ROWTYPE; BEGIN "
        "SELECT * INTO newest FROM audit_event ORDER BY seq DESC LIMIT 1; "
        "IF NEW.seq <> COALESCE(newest.seq, 0) + 1 "
        f"OR NEW.prev_hash <> COALESCE(newest.hash, '{GENESIS_HASH}') THEN "
        "RAISE EXCEPTION 'audit_event is append-only: only the next event may be added'; "
        "END IF; RETURN NEW; END $$",
        "CREATE TRIGGER audit_event_next_only BEFORE INSERT ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_next_only()",
        "CREATE TRIGGER audit_checkpoint_no_update_delete BEFORE UPDATE OR DELETE "
        "ON audit_checkpoint FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
        "CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
    ],
}
DROP_NEXT_ONLY = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete",
        "DROP TRIGGER IF EXISTS audit_checkpoint_no_update",
        "DROP TRIGGER IF EXISTS audit_event_next_only",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_checkpoint",
        "DROP TRIGGER IF EXISTS audit_checkpoint_no_update_delete ON audit_checkpoint",
        "DROP TRIGGER IF EXISTS audit_event_next_only ON audit_event",
        "DROP FUNCTION IF EXISTS audit_event_next_only()",
    ],
}


def upgrade() -> None:
    op.create_table(
        "audit_checkpoint",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoint")),
    )
    for statement in NEXT_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_NEXT_ONLY.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    op.drop_table("audit_checkpoint")
