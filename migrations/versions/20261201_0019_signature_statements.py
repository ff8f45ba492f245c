"""signatures keep their manifestation: the signer's printed name, the statement signed

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signature") as batch:
        batch.add_column(sa.Column("signer_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("statement", sa.Text(), nullable=True))
        batch.add_column(sa.Column("statement_language", sa.String(length=8), nullable=True))
    # A signature given before names were printed is printed with the signer's display name.
    op.execute(
        "UPDATE signature SET signer_name = COALESCE("
        "(SELECT display_name FROM user_account WHERE user_account.id = signature.signer_id), "
        "signer)"
    )


def downgrade() -> None:
    with op.batch_alter_table("signature") as batch:
        batch.drop_column("statement_language")
        batch.drop_column("statement")
        batch.drop_column("signer_name")
