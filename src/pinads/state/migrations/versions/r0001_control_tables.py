"""Authorizers, sources, run history, run locks, backfill progress and plans.

The control tables as the hand-written migrations left them at their version 5: a database
they made at that version is stamped with this revision (`pinads.state.migrations`).

Revision ID: 0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    for create in TABLES.values():
        create()


# Columns the hand-written versions 3 (authorizers) and 5 (sources) added: a database of an
# earlier version gets them from `pinads.state.migrations.legacy`, which names them here.
def revoked_at() -> sa.Column[datetime]:
    return sa.Column("revoked_at", _TIME)


def rate_tier() -> sa.Column[str]:
    return sa.Column("rate_tier", sa.String(16), nullable=False, server_default="standard")


def destination_enc() -> sa.Column[str]:
    return sa.Column("destination_enc", sa.Text)


def _authorizers() -> None:
    op.create_table(
        "authorizers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("label", sa.String(64), nullable=False, unique=True),
        sa.Column("api_url", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("client_secret_enc", sa.Text, nullable=False),
        sa.Column("access_token_enc", sa.Text),
        sa.Column("refresh_token_enc", sa.Text),
        sa.Column("access_expires_at", _TIME),
        sa.Column("refresh_expires_at", _TIME),
        sa.Column("scopes", sa.String(500), nullable=False),
        sa.Column("pinterest_user_id", sa.String(32)),
        sa.Column("pinterest_username", sa.String(200)),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        revoked_at(),
        rate_tier(),
    )


def _sources() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column(
            "authorizer_id",
            sa.Integer,
            sa.ForeignKey("authorizers.id", name="fk_sources_authorizer"),
            nullable=True,
        ),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        destination_enc(),
    )
    op.create_index("ix_sources_authorizer_id", "sources", ["authorizer_id"])


def _runs() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "source_id",
            sa.Integer,
            sa.ForeignKey("sources.id", name="fk_runs_source", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("range_start", sa.Date),
        sa.Column("range_end", sa.Date),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_written", sa.BigInteger, nullable=False),
        sa.Column("api_calls", sa.Integer, nullable=False),
        sa.Column("rate_limited_waits", sa.Integer, nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME),
        sa.Column("duration_seconds", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
    )
    op.create_index("ix_runs_source_id", "runs", ["source_id"])


def _run_locks() -> None:
    op.create_table(
        "run_locks",
        sa.Column(
            "source_id",
            sa.Integer,
            sa.ForeignKey("sources.id", name="fk_run_locks_source", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("acquired_at", _TIME, nullable=False),
        sa.Column("heartbeat_at", _TIME, nullable=False),
    )


def _backfill_progress() -> None:
    op.create_table(
        "backfill_progress",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("batch", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("range_start", sa.Date, nullable=False),
        sa.Column("range_end", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_written", sa.BigInteger, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_index("ix_backfill_progress_source_id", "backfill_progress", ["source_id"])


def _run_plans() -> None:
    op.create_table(
        "run_plans",
        sa.Column(
            "run_id",
            sa.String(32),
            sa.ForeignKey("runs.id", name="fk_run_plans_run", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("basis", sa.String(200), nullable=False),
        sa.Column("plan", sa.JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )


# Each table (with its indexes) by name, in the order of their foreign keys.
TABLES: dict[str, Callable[[], None]] = {
    "authorizers": _authorizers,
    "sources": _sources,
    "runs": _runs,
    "run_locks": _run_locks,
    "backfill_progress": _backfill_progress,
    "run_plans": _run_plans,
}


def downgrade() -> None:
    for table in ("run_plans", "backfill_progress", "run_locks", "runs", "sources", "authorizers"):
        op.drop_table(table)
