"""The scheduler lease and slot claims (the hand-written control version 6).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "slot_claims",
        sa.Column(
            "source_id",
            sa.Integer,
            sa.ForeignKey("sources.id", name="fk_slot_claims_source", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("slot", _TIME, primary_key=True),
        sa.Column("claimed_by", sa.String(300), nullable=False),
        sa.Column("claimed_at", _TIME, nullable=False),
    )
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(300), nullable=False),
        sa.Column("acquired_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scheduler_leases")
    op.drop_table("slot_claims")
