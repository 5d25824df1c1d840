"""`ControlFile`: is the SQLite file of the control DB still the one a run began with?

Deleted (or replaced) under a running process, SQLite goes on writing into the unlinked file:
the run would report success and its history be lost. So a run checks the file is still the
one it opened, at every heartbeat, after every step and before recording its end.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

from pinads.errors import StateError

__all__ = ["ControlFile"]


class ControlFile:
    """The file behind `url` as it is now (nothing to watch for a server database)."""

    def __init__(self, url: sa.engine.URL) -> None:
        database = url.database if url.get_backend_name() == "sqlite" else None
        self.path = Path(database) if database and database != ":memory:" else None
        self.identity = self._identity()

    def _identity(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def lost(self, run_id: str) -> StateError | None:
        """Why the run's history can no longer be kept, or None while the file is its own."""
        if self.identity is None or self._identity() == self.identity:
            return None
        return StateError(
            f"the control DB {self.path} was deleted or replaced while run {run_id} was going: "
            "the run stopped and its history is lost; restore the file (or let pinads create "
            "a new one) and run the source again"
        )
