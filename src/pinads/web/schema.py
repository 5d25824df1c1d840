"""The web's tables in the control DB and their versioned migrations.

`pinads.state` has no hook for other packages' migrations, so the web keeps its own version
table `web_schema_version` (see `WebStore`). Version 2 adds server-side sessions (only a
hash of each id is stored), failed-login counts for throttling, and the audit log.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from pinads.state.db import UTCDateTime

__all__ = [
    "API_TOKENS",
    "AUDIT_LOG",
    "LATEST_WEB_VERSION",
    "LOGIN_FAILURES",
    "METADATA",
    "USERS",
    "WEB_MIGRATIONS",
    "WEB_SCHEMA_VERSION",
    "WEB_SESSIONS",
]

METADATA = sa.MetaData()
WEB_SCHEMA_VERSION = sa.Table(
    "web_schema_version",
    METADATA,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)
USERS = sa.Table(
    "users",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
API_TOKENS = sa.Table(
    "api_tokens",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
)
WEB_SESSIONS = sa.Table(
    "web_sessions",
    METADATA,
    # SHA-256 of the random id the cookie carries: a copy of this table logs no one in.
    sa.Column("id_sha256", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    # What the pages keep between requests: CSRF token, flash messages, a wizard draft.
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("address", sa.String(64)),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
    sa.Column("last_seen_at", UTCDateTime, nullable=False, index=True),
)
LOGIN_FAILURES = sa.Table(
    "login_failures",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    # "user" (key: user name), "address" (key: client address), "token" (key: address).
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
    sa.Index("ix_login_failures_scope_key_at", "scope", "key", "at"),
)
AUDIT_LOG = sa.Table(
    "audit_log",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    # Who: a web user, or "cli:<os user>"; roles (issue 15) will key on it.
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False, index=True),
    sa.Column("target", sa.String(255)),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("address", sa.String(64)),
)


def _v1(conn: sa.Connection) -> None:
    METADATA.create_all(conn, tables=[USERS, API_TOKENS], checkfirst=True)


def _v2(conn: sa.Connection) -> None:
    METADATA.create_all(conn, tables=[WEB_SESSIONS, LOGIN_FAILURES, AUDIT_LOG], checkfirst=True)


WEB_MIGRATIONS: tuple[tuple[int, Callable[[sa.Connection], None]], ...] = ((1, _v1), (2, _v2))
LATEST_WEB_VERSION = WEB_MIGRATIONS[-1][0]
