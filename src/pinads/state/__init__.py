"""The control DB: authorizers, sources, run history, run locks, backfill progress and plans.

SQLite in PINADS_HOME by default, any SQLAlchemy URL (PostgreSQL) via PINADS_DATABASE_URL;
the schema is versioned and migrated on open.
"""

from pinads.state.authorizers import AuthorizerRepository, sources_using_authorizer
from pinads.state.control import ControlDB, open_control_db
from pinads.state.db import create_control_engine, redacted_url
from pinads.state.heartbeat import RunLockHeartbeat
from pinads.state.migrations import LATEST_VERSION, MIGRATIONS, current_version, migrate
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

__all__ = [
    "DEFAULT_STALE_AFTER",
    "LATEST_VERSION",
    "MIGRATIONS",
    "SCHEDULER_LEASE",
    "AuthorizerRecord",
    "AuthorizerRepository",
    "BackfillBatch",
    "ControlDB",
    "LeaseKeeper",
    "NewAuthorizer",
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
    "create_control_engine",
    "current_version",
    "load_or_create_key_file",
    "migrate",
    "open_control_db",
    "pid_alive",
    "process_name",
    "redacted_url",
    "sources_using_authorizer",
]
