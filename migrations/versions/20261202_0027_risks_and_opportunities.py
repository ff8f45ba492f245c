"""the register of risks and opportunities, their treatment and actions

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Make the tables."""


def downgrade() -> None:
    """Drop the tables."""
