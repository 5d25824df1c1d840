"""The control DB: authorizers, sources, run history, run locks, backfill progress and plans;
web users, API tokens, web sessions, login failures and the audit log. Every table and query
of pinads' own state lives in this package.

SQLite in PINADS_HOME by default, any SQLAlchemy URL (PostgreSQL) via PINADS_DATABASE_URL;
one engine per URL and process; the schema is migrated with Alembic (`migrations`), once per
process.
"""

from pinads.state.api_tokens import ApiTokenInfo, ApiTokenRepository, TokenUse
from pinads.state.audit import AuditEntry, AuditRepository
from pinads.state.authorizers import AuthorizerRepository
from pinads.state.control import ControlDB, ensure_schema, open_control_db, secret_cipher
from pinads.state.control_file import ControlFile
from pinads.state.db import (
    DatabaseError,
    control_engine,
    create_control_engine,
    dispose_engines,
    redacted_url,
)
from pinads.state.heartbeat import RunLockHeartbeat
from pinads.state.login_failures import LoginFailureRepository
from pinads.state.migrations import HEAD, Upgrade, current_revisions, upgrade
from pinads.state.notifications import ChannelRecord, NotificationRepository
from pinads.state.plans import PlanRepository
from pinads.state.records import (
    AuthorizerRecord,
    BackfillBatch,
    NewAuthorizer,
    RunLock,
    RunRecord,
    RunStatus,
    SourceRecord,
    StoredPlan,
    StoredTokens,
)
from pinads.state.runs import DEFAULT_STALE_AFTER, RunRepository, pid_alive
from pinads.state.scheduling import (
    SCHEDULER_LEASE,
    LeaseKeeper,
    ScheduleRepository,
    process_name,
)
from pinads.state.secretbox import SecretBox, load_or_create_key_file
from pinads.state.sources import SourceRepository
from pinads.state.users import UserInfo, UserRepository
from pinads.state.web_sessions import (
    ActiveSession,
    Clock,
    WebSessionRepository,
    revoke_user_sessions,
    session_key,
)

__all__ = [
    "DEFAULT_STALE_AFTER",
    "HEAD",
    "SCHEDULER_LEASE",
    "ActiveSession",
    "ApiTokenInfo",
    "ApiTokenRepository",
    "AuditEntry",
    "AuditRepository",
    "AuthorizerRecord",
    "AuthorizerRepository",
    "BackfillBatch",
    "ChannelRecord",
    "Clock",
    "ControlDB",
    "ControlFile",
    "DatabaseError",
    "LeaseKeeper",
    "LoginFailureRepository",
    "NewAuthorizer",
    "NotificationRepository",
    "PlanRepository",
    "RunLock",
    "RunLockHeartbeat",
    "RunRecord",
    "RunRepository",
    "RunStatus",
    "ScheduleRepository",
    "SecretBox",
    "SourceRecord",
    "SourceRepository",
    "StoredPlan",
    "StoredTokens",
    "TokenUse",
    "Upgrade",
    "UserInfo",
    "UserRepository",
    "WebSessionRepository",
    "control_engine",
    "create_control_engine",
    "current_revisions",
    "dispose_engines",
    "ensure_schema",
    "load_or_create_key_file",
    "open_control_db",
    "pid_alive",
    "process_name",
    "redacted_url",
    "revoke_user_sessions",
    "secret_cipher",
    "session_key",
    "upgrade",
]
