"""Typed rows returned by the control DB repositories (frozen pydantic models)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pinads.values import RunKind

__all__ = [
    "AuthorizerRecord",
    "BackfillBatch",
    "NewAuthorizer",
    "RunLock",
    "RunRecord",
    "RunStatus",
    "SourceRecord",
    "StoredPlan",
    "StoredTokens",
]


class StoredTokens(BaseModel):
    """A token set as stored: ciphertexts and expiries (encryption is pinads.auth's job)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    access_token_enc: str = Field(repr=False)
    refresh_token_enc: str = Field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    scopes: tuple[str, ...]


class NewAuthorizer(BaseModel):
    """What is needed to insert an authorizer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    api_url: str
    client_id: str
    client_secret_enc: str = Field(repr=False)
    tokens: StoredTokens
    pinterest_user_id: str | None = None
    pinterest_username: str | None = None
    rate_tier: str = "standard"


class AuthorizerRecord(BaseModel):
    """One saved authorizer. The `*_enc` fields are Fernet ciphertexts, kept out of repr."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    label: str
    api_url: str
    client_id: str
    client_secret_enc: str = Field(repr=False)
    access_token_enc: str | None = Field(repr=False)
    refresh_token_enc: str | None = Field(repr=False)
    access_expires_at: datetime | None
    refresh_expires_at: datetime | None
    scopes: tuple[str, ...]
    pinterest_user_id: str | None
    pinterest_username: str | None
    created_at: datetime
    updated_at: datetime
    revoked_at: datetime | None
    rate_tier: str

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None or self.refresh_token_enc is None


class SourceRecord(BaseModel):
    """One saved source: its config document (validated by pinads.sources; its destination
    redacted) and authorizer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    name: str
    config: dict[str, Any]
    authorizer_id: int | None
    created_at: datetime
    updated_at: datetime
    # The clear destination URL, encrypted, when it holds a secret (`config` has it redacted).
    destination_enc: str | None = Field(default=None, repr=False)


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Its process died (killed, machine rebooted) before recording an outcome; what its
    # committed steps wrote is kept, a backfill resumes from them.
    INTERRUPTED = "interrupted"


class RunRecord(BaseModel):
    """One run of a source (history)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    source_id: int
    kind: RunKind
    range_start: date | None
    range_end: date | None
    status: RunStatus
    rows_written: int
    api_calls: int
    rate_limited_waits: int
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    error: str | None
    pid: int
    host: str


class RunLock(BaseModel):
    """Who runs a source right now."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_id: int
    run_id: str
    pid: int
    host: str
    acquired_at: datetime
    heartbeat_at: datetime


class BackfillBatch(BaseModel):
    """Progress of one batch of a backfill run (for display; data checkpoints live with the
    destination's writes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    batch: int
    source_id: int
    range_start: date
    range_end: date
    status: str
    rows_written: int
    updated_at: datetime


class StoredPlan(BaseModel):
    """The plan a backfill run followed (a JSON document of `pinads.extract.plan_document`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run: RunRecord
    basis: str
    plan: dict[str, Any]
