"""Runs and backfills started from the web, in background threads, with live progress.

The runner records every run in run history; this registry only holds what a page polls while
a run is going (counters, then the result or the error line), for the life of the server.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from pinads.errors import PinadsError, redact
from pinads.extract import RunProgress
from pinads.runner import RunResult

__all__ = ["Job", "JobRegistry", "JobView"]

log = logging.getLogger(__name__)
JobStatus = Literal["running", "succeeded", "failed"]
MAX_JOBS_KEPT = 200


@dataclass
class Job:
    id: str
    source: str
    kind: str
    started_at: datetime
    status: JobStatus = "running"
    steps_total: int = 0
    steps_done: int = 0
    rows: int = 0
    api_calls: int = 0
    current: str = ""
    error: str | None = None
    result: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def on_progress(self, progress: RunProgress) -> None:
        with self.lock:
            self.steps_total = progress.steps_total
            self.steps_done = progress.steps_shown
            self.rows = progress.rows_shown
            self.api_calls = progress.api_calls
            self.current = progress.current

    def view(self) -> JobView:
        with self.lock:
            return JobView(
                id=self.id,
                source=self.source,
                kind=self.kind,
                status=self.status,
                started_at=self.started_at,
                steps_total=self.steps_total,
                steps_done=self.steps_done,
                rows=self.rows,
                api_calls=self.api_calls,
                current=self.current,
                error=self.error,
                result=self.result,
            )


class JobView(BaseModel):
    """A background run as the API returns it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    source: str
    kind: str
    status: JobStatus
    started_at: datetime
    steps_total: int
    steps_done: int
    rows: int
    api_calls: int
    current: str
    error: str | None
    result: dict[str, Any] | None


class JobRegistry:
    """Background runs, at most a few at a time (the rest wait in the pool's queue)."""

    def __init__(self, workers: int = 4) -> None:
        self._workers = workers
        self._pool = self._new_pool()
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(
        self, *, source: str, kind: str, work: Callable[[Callable[[RunProgress], None]], RunResult]
    ) -> Job:
        job = Job(id=secrets.token_hex(8), source=source, kind=kind, started_at=datetime.now(UTC))
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > MAX_JOBS_KEPT:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest].status == "running":
                    break
                del self._jobs[oldest]
            self._pool.submit(self._run, job, work)
        return job

    @staticmethod
    def _run(job: Job, work: Callable[[Callable[[RunProgress], None]], RunResult]) -> None:
        try:
            result = work(job.on_progress)
        except PinadsError as exc:
            with job.lock:
                job.status, job.error = "failed", redact(str(exc))
            return
        except Exception as exc:  # a background thread's top level: report, never vanish
            log.exception("web job %s failed", job.id)
            with job.lock:
                job.status = "failed"
                job.error = f"unexpected {type(exc).__name__}: {redact(str(exc))}"
            return
        with job.lock:
            job.status, job.current = "succeeded", ""
            job.result = result.model_dump(mode="json")
            job.rows = result.rows_written
            job.api_calls = result.api_calls
            job.steps_done = job.steps_total = result.steps

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def for_source(self, source: str) -> list[Job]:
        with self._lock:
            return [job for job in self._jobs.values() if job.source == source]

    def _new_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="pinads-web-run")

    def shutdown(self) -> None:
        """Wait for running jobs; the registry stays usable, because an ASGI app can be started
        again after a shutdown (test clients do, per client) and threads start only on demand."""
        with self._lock:
            pool, self._pool = self._pool, self._new_pool()
        pool.shutdown(wait=True, cancel_futures=True)
