"""Public views of authorizers (no secrets), test reports and label rules."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr

from pinads.errors import ConfigError
from pinads.state import AuthorizerRecord

__all__ = [
    "REFRESH_WARNING",
    "Authorizer",
    "RevokeResult",
    "TestCheck",
    "TestReport",
    "check_label",
    "dead_reason",
    "label_from_username",
]

REFRESH_WARNING = timedelta(days=7)
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


def check_label(label: str) -> str:
    """A label starts with a letter (so it never looks like an id) and has at most 64 of
    letters, digits, `_`, `.` and `-`."""
    if not _LABEL.fullmatch(label):
        raise ConfigError(
            f"the label {label!r} is not allowed: start with a letter and use at most 64 "
            "letters, digits, '_', '.' or '-'"
        )
    return label


def label_from_username(username: str | None) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", username or "")[:56].strip("-.")
    return cleaned if cleaned and cleaned[0].isalpha() else f"pinterest-{cleaned}".rstrip("-")


def dead_reason(*, revoked: bool, refresh_expires_at: datetime | None, now: datetime) -> str | None:
    """Why an authorizer needs re-authorization ("was revoked", "has an expired refresh
    token"), or None while it works: the one rule the CLI, doctor, metrics and the scheduler's
    pause share."""
    if revoked:
        return "was revoked"
    if refresh_expires_at is not None and refresh_expires_at <= now:
        return "has an expired refresh token"
    return None


class Authorizer(BaseModel):
    """A saved authorizer as users see it: never a token or a secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    label: str
    api_url: str
    client_id: str
    scopes: tuple[str, ...]
    pinterest_user_id: str | None
    pinterest_username: str | None
    access_expires_at: datetime | None
    refresh_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    revoked_at: datetime | None
    rate_tier: str
    # The service that loaded it, so `pinads.auth.open_client(authorizer)` uses the same
    # settings (control DB, key) and transport.
    _service: Any = PrivateAttr(default=None)

    @classmethod
    def from_record(cls, record: AuthorizerRecord, service: Any = None) -> Authorizer:
        data = record.model_dump(exclude={"client_secret_enc", "access_token_enc"})
        data.pop("refresh_token_enc")
        view = cls.model_validate(data)
        view._service = service
        if record.refresh_token_enc is None and view.revoked_at is None:
            view = view.model_copy(update={"revoked_at": record.updated_at})
        return view

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def refresh_expires_within(self, margin: timedelta, *, now: datetime) -> bool:
        return self.refresh_expires_at is not None and self.refresh_expires_at - margin <= now


class TestCheck(BaseModel):
    """One thing `pinads auth test` tried."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    ok: bool
    detail: str


class TestReport(BaseModel):
    """What works with an authorizer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    authorizer: Authorizer
    checks: tuple[TestCheck, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


class RevokeResult(BaseModel):
    """The outcome of a revocation: always forgotten locally; Pinterest may refuse."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    authorizer: Authorizer
    revoked_at_pinterest: bool
    detail: str
