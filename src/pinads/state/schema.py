"""Tables of the control DB at the newest schema revision (the Alembic revisions in
`pinads.state.migrations` build them; a test checks that a migrated database matches these
definitions exactly): authorizers, sources, run history, the scheduler's lease and slot
claims, and the web's users, API tokens, sessions, login failures and audit log."""

from __future__ import annotations

import sqlalchemy as sa

from pinads.state.db import UTCDateTime

__all__ = [
    "API_TOKENS",
    "AUDIT_LOG",
    "AUTHORIZERS",
    "BACKFILL_PROGRESS",
    "LOGIN_FAILURES",
    "METADATA",
    "NOTIFICATIONS_SENT",
    "NOTIFICATION_CHANNELS",
    "RUNS",
    "RUN_LOCKS",
    "RUN_PLANS",
    "SCHEDULER_LEASES",
    "SLOT_CLAIMS",
    "SOURCES",
    "USERS",
    "WEB_SESSIONS",
]

METADATA = sa.MetaData()

AUTHORIZERS = sa.Table(
    "authorizers",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("label", sa.String(64), nullable=False, unique=True),
    sa.Column("api_url", sa.String(500), nullable=False),
    sa.Column("client_id", sa.String(200), nullable=False),
    # Fernet ciphertexts (pinads.auth.SecretBox); never plain text.
    sa.Column("client_secret_enc", sa.Text, nullable=False),
    sa.Column("access_token_enc", sa.Text),
    sa.Column("refresh_token_enc", sa.Text),
    sa.Column("access_expires_at", UTCDateTime),
    sa.Column("refresh_expires_at", UTCDateTime),
    sa.Column("scopes", sa.String(500), nullable=False, default=""),
    sa.Column("pinterest_user_id", sa.String(32)),
    sa.Column("pinterest_username", sa.String(200)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("rate_tier", sa.String(16), nullable=False, server_default="standard"),
)

SOURCES = sa.Table(
    "sources",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    # The config document; its destination URL is redacted (`***` for secrets) ...
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column(
        "authorizer_id",
        sa.Integer,
        sa.ForeignKey("authorizers.id", name="fk_sources_authorizer"),
        nullable=True,
        index=True,
    ),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # ... and the clear URL is this Fernet ciphertext (pinads.state.sealing), when it has secrets.
    sa.Column("destination_enc", sa.Text),
)

RUNS = sa.Table(
    "runs",
    METADATA,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "source_id",
        sa.Integer,
        sa.ForeignKey("sources.id", name="fk_runs_source", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("range_start", sa.Date),
    sa.Column("range_end", sa.Date),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rows_written", sa.BigInteger, nullable=False, default=0),
    sa.Column("api_calls", sa.Integer, nullable=False, default=0),
    sa.Column("rate_limited_waits", sa.Integer, nullable=False, default=0),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("duration_seconds", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
)

RUN_LOCKS = sa.Table(
    "run_locks",
    METADATA,
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
    sa.Column("acquired_at", UTCDateTime, nullable=False),
    sa.Column("heartbeat_at", UTCDateTime, nullable=False),
)

BACKFILL_PROGRESS = sa.Table(
    "backfill_progress",
    METADATA,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("batch", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source_id", sa.Integer, nullable=False, index=True),
    sa.Column("range_start", sa.Date, nullable=False),
    sa.Column("range_end", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rows_written", sa.BigInteger, nullable=False, default=0),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# The plan of a backfill run (`pinads.extract.plan_document`): a resumed backfill finishes
# these steps instead of re-planning with the entities of its own day.
RUN_PLANS = sa.Table(
    "run_plans",
    METADATA,
    sa.Column(
        "run_id",
        sa.String(32),
        sa.ForeignKey("runs.id", name="fk_run_plans_run", ondelete="CASCADE"),
        primary_key=True,
    ),
    # What the steps depend on besides the range (dataset, granularity): another basis is
    # never resumed.
    sa.Column("basis", sa.String(200), nullable=False),
    sa.Column("plan", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# One row per scheduled slot that a scheduler started (or sent to a worker): the primary key
# makes a slot run once even if two schedulers both believe they lead.
SLOT_CLAIMS = sa.Table(
    "slot_claims",
    METADATA,
    sa.Column(
        "source_id",
        sa.Integer,
        sa.ForeignKey("sources.id", name="fk_slot_claims_source", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("slot", UTCDateTime, primary_key=True),
    sa.Column("claimed_by", sa.String(300), nullable=False),
    sa.Column("claimed_at", UTCDateTime, nullable=False),
)

# The lease that makes one `pinads scheduler` the one firing due slots; it expires unless its
# holder renews it, so another scheduler takes over from a dead one.
SCHEDULER_LEASES = sa.Table(
    "scheduler_leases",
    METADATA,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(300), nullable=False),
    sa.Column("acquired_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

# The web's tables.
USERS = sa.Table(
    "users",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # admin, editor, viewer or authorizer (pinads.web.roles); users made before roles: admin.
    sa.Column("role", sa.String(16), nullable=False, server_default="admin"),
    sa.Column("disabled_at", UTCDateTime),
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
    # The token's role (never more than its user's); null: its user's role.
    sa.Column("role", sa.String(16)),
    sa.Column("expires_at", UTCDateTime),
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

NOTIFICATION_CHANNELS = sa.Table(
    "notification_channels",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    # A channel for one source goes with it; null: every source.
    sa.Column(
        "source_id",
        sa.Integer,
        sa.ForeignKey("sources.id", name="fk_notification_channels_source", ondelete="CASCADE"),
    ),
    sa.Column("events", sa.String(200), nullable=False),  # comma-separated event kinds
    sa.Column("settings", sa.JSON, nullable=False),  # pinads.notify's settings, no secret
    # Fernet ciphertext of the webhook signing secret or SMTP password (SecretBox).
    sa.Column("secret_enc", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
# Alerts already sent (an expiring token is seen at every scheduler check): sent once.
NOTIFICATIONS_SENT = sa.Table(
    "notifications_sent",
    METADATA,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("sent_at", UTCDateTime, nullable=False),
)
