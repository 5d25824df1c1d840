"""Async report jobs and their download files (in memory, per emulator instance)."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ReportJob", "ReportStore"]


@dataclass(slots=True)
class ReportJob:
    """One `POST /reports` request. `polls` counts GETs; the file is rendered on FINISHED."""

    token: str
    account_id: str
    user_id: str
    request: dict[str, Any]
    created_at: datetime
    polls: int = 0
    status: str = "IN_PROGRESS"
    finished_at: datetime | None = None
    body: bytes | None = None
    media_type: str = "application/json"
    size: int | None = None
    number: int = 0  # creation number in this emulator: the stable key of fault draws


@dataclass(slots=True)
class ReportFile:
    body: bytes
    media_type: str
    link_expires_at: datetime


@dataclass
class ReportStore:
    jobs: dict[str, ReportJob] = field(default_factory=dict)
    files: dict[str, ReportFile] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    created: int = 0

    def create(
        self, *, account_id: str, user_id: str, request: dict[str, Any], now: datetime
    ) -> ReportJob:
        job = ReportJob(secrets.token_hex(16), account_id, user_id, request, now)
        with self.lock:
            self.created += 1
            job.number = self.created
            self.jobs[job.token] = job
        return job

    def add_file(self, body: bytes, *, media_type: str, link_expires_at: datetime) -> str:
        # The key is the only credential of the download link (like a pre-signed S3 URL).
        key = secrets.token_urlsafe(24)
        with self.lock:
            self.files[key] = ReportFile(body, media_type, link_expires_at)
        return key

    def clear(self) -> None:
        with self.lock:
            self.jobs.clear()
            self.files.clear()
            self.created = 0
