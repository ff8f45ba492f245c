"""complaints, with the complainant kept apart as personal data

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-02 15:00:00.000000
"""

from collections.abc import Sequence

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Make the tables."""


def downgrade() -> None:
    """Drop the tables."""
