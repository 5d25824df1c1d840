"""One writer at a time per file, across threads and processes: writers queue, none fails.

DuckDB lets one process attach a file for writing, and refuses a second attach of the same file
even inside that process. Runs of several sources that share a file (the default `duckdb`
destination) therefore take turns: each holds the file only while it writes a group of steps,
waiting here for its turn, and closes it before it goes back to the API.

The lock is `flock` on a sidecar file next to the data file (`<file>.pinads-lock`): the kernel
queues the waiters and frees the lock when its holder dies, so a killed run never leaves the
file locked. `flock` locks belong to an open file description, so two threads of one process
exclude each other too; the in-process lock in front of it only spares them a blocked system
call each. (The standard library's `fcntl` is all this needs; `filelock` would add a dependency
for the same two calls.)
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["LOCK_SUFFIX", "lock_path", "writer_turn"]

LOCK_SUFFIX = ".pinads-lock"
log = logging.getLogger(__name__)

_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


def lock_path(path: Path) -> Path:
    """The sidecar file whose lock stands for the right to write `path`."""
    return path.with_name(path.name + LOCK_SUFFIX)


def _local_lock(path: Path) -> threading.Lock:
    key = os.path.realpath(path)
    with _local_guard:
        return _local_locks.setdefault(key, threading.Lock())


@contextmanager
def writer_turn(path: Path) -> Iterator[None]:
    """Hold the exclusive right to write `path` (waiting as long as another writer writes)."""
    started = time.monotonic()
    with _local_lock(path):
        fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            waited = time.monotonic() - started
            if waited >= 1:
                log.info("waited %.1f s for another writer of %s", waited, path)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock
