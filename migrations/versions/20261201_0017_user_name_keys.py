"""user names unique without regard to case or form

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 12:30:00.000000
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=100), nullable=True))
    connection = op.get_bind()
    users = connection.execute(sa.text("SELECT id, name FROM user_account ORDER BY id")).all()
    seen: dict[str, str] = {}
    for user_id, name in users:
        key = unicodedata.normalize("NFKC", name).casefold()
        if key in seen:
            # Both users have events, tokens and signatures under their names: which one goes
            # is a person's decision, not this migration's.
            raise RuntimeError(
                f"The users {seen[key]!r} and {name!r} differ only in case: deactivate one and "
                "rename it (or ask for help) before upgrading."
            )
        seen[key] = name
        connection.execute(
            sa.text("UPDATE user_account SET name_key = :key WHERE id = :id"),
            {"key": key, "id": user_id},
        )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=100), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_user_account_name_key"), ["name_key"])


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_user_account_name_key"), type_="unique")
        batch_op.drop_column("name_key")
