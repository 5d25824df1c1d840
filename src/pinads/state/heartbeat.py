"""`RunLockHeartbeat`: keeps a run lock's heartbeat fresh from a background thread, so a run
that lasts longer than `stale_after` is not taken for dead on another machine."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from types import TracebackType
from typing import Self

from pinads.errors import StateError
from pinads.state.runs import RunRepository

__all__ = ["RunLockHeartbeat"]

log = logging.getLogger(__name__)


class RunLockHeartbeat:
    """`with RunLockHeartbeat(runs, source_id, run_id): ...` beats every `interval` until the
    block ends. If the lock was taken over, `lost` holds the error (the run should stop)."""

    def __init__(
        self,
        runs: RunRepository,
        source_id: int,
        run_id: str,
        *,
        interval: timedelta = timedelta(minutes=1),
    ) -> None:
        self._runs = runs
        self._source_id = source_id
        self._run_id = run_id
        self._interval = interval.total_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id}", daemon=True)
        self.beats = 0
        self.lost: StateError | None = None

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._runs.heartbeat(self._source_id, self._run_id)
            except StateError as exc:
                self.lost = exc
                log.error("%s", exc.message)
                return
            self.beats += 1

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(10)
