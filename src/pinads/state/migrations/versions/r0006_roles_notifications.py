"""Roles and disabling of users, role and expiry of API tokens (users made before roles are
admins: the column's default); notification channels and alerts sent. The web's hand-written
version 3.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="admin"))
        users.add_column(sa.Column("disabled_at", _TIME))
    with op.batch_alter_table("api_tokens") as tokens:
        tokens.add_column(sa.Column("role", sa.String(16)))
        tokens.add_column(sa.Column("expires_at", _TIME))
    op.create_table(
        "notification_channels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "source_id",
            sa.Integer,
            sa.ForeignKey("sources.id", name="fk_notification_channels_source", ondelete="CASCADE"),
        ),
        sa.Column("events", sa.String(200), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("secret_enc", sa.Text),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_table(
        "notifications_sent",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("sent_at", _TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notifications_sent")
    op.drop_table("notification_channels")
    with op.batch_alter_table("api_tokens") as tokens:
        tokens.drop_column("expires_at")
        tokens.drop_column("role")
    with op.batch_alter_table("users") as users:
        users.drop_column("disabled_at")
        users.drop_column("role")
