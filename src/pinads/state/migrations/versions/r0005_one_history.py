"""Join the control and web branches: one line of revisions from here on.

Revision ID: 0005
Revises: 0002, 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

revision = "0005"
down_revision = ("0002", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the two branches' tables are independent."""


def downgrade() -> None:
    """Nothing to change."""
