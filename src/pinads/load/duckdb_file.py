"""The DuckDB file of a destination, open only while it is being written or read.

A run spends most of its time waiting for Pinterest. Holding the file for the whole run would
shut out everybody else: DuckDB lets one process attach a file for writing, and refuses every
other attach meanwhile (another run of a source sharing the file, a BI tool reading it). So
the file is attached when a use begins (a group of steps, a checkpoint lookup, a probe) and
closed when it ends, after the writer's turn (`writer_turn`) has come: runs that share the file
queue for it, and a reader can open it between two uses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import duckdb

from pinads.errors import LoadError
from pinads.load.writer_lock import writer_turn

__all__ = ["BUSY_SECONDS", "DATABASE_ALIAS", "DuckDBFile", "first_line", "open_failure"]

DATABASE_ALIAS = "pinads"  # the alias of the attached file (the connection's default database)
# How long an attach waits while a process outside pinads (a DuckDB shell, a BI tool reading the
# file) has it open; pinads' own writers queue in `writer_turn` without a limit.
BUSY_SECONDS = 120.0
_FIRST_RETRY_SECONDS = 0.05
_LONGEST_RETRY_SECONDS = 1.0


class DuckDBFile:
    """Re-entrant uses of one file: the outermost `use()` waits for the writer's turn and
    attaches the file, the end of the outermost use closes it (DuckDB checkpoints it then)."""

    def __init__(
        self,
        path: Path,
        *,
        row_group_rows: int,
        prepare: Callable[[duckdb.DuckDBPyConnection], None],
        busy_seconds: float = BUSY_SECONDS,
    ) -> None:
        self.path = path
        self.row_group_rows = row_group_rows
        self.prepare = prepare  # settings and bookkeeping tables of a fresh connection
        self.busy_seconds = busy_seconds
        self._lock = threading.RLock()
        self._depth = 0
        self._held = ExitStack()
        self._connection: duckdb.DuckDBPyConnection | None = None

    @contextmanager
    def use(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            if self._depth == 0:
                self._open()
            self._depth += 1
            try:
                assert self._connection is not None
                yield self._connection
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._close()

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LoadError(
                f"cannot create the DuckDB file's directory {self.path.parent} "
                f"({exc.strerror}); choose a writable path in the destination URL"
            ) from exc
        with ExitStack() as stack:
            stack.enter_context(writer_turn(self.path))
            conn = self._attach_when_free()
            stack.callback(conn.close)
            self.prepare(conn)
            self._connection = conn
            self._held = stack.pop_all()

    def _close(self) -> None:
        self._connection = None
        self._held.close()  # closes the connection, then gives the writer's turn back

    def _attach_when_free(self) -> duckdb.DuckDBPyConnection:
        """Attach the file, waiting (up to `busy_seconds`) while a process outside pinads has
        it open; any other failure is reported at once."""
        deadline = time.monotonic() + self.busy_seconds
        pause = _FIRST_RETRY_SECONDS
        while True:
            try:
                return _attach(self.path, row_group_rows=self.row_group_rows)
            except duckdb.Error as exc:
                if not _is_busy(exc) or time.monotonic() + pause > deadline:
                    raise LoadError(open_failure(self.path, exc)) from exc
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_RETRY_SECONDS)


def _is_busy(exc: duckdb.Error) -> bool:
    return "conflicting lock" in str(exc).lower()


def _attach(path: Path, *, row_group_rows: int) -> duckdb.DuckDBPyConnection:
    """A connection whose default database is the file at `path`, attached with pinads' row
    group size (ROW_GROUP_SIZE is an option of ATTACH, not of the file: it holds for the rows
    this connection writes). Spilled buffers go beside the file, as for a file opened directly."""
    conn = duckdb.connect()
    try:
        literal = str(path).replace("'", "''")
        conn.execute(f"ATTACH '{literal}' AS {DATABASE_ALIAS} (ROW_GROUP_SIZE {row_group_rows})")
        conn.execute(f"USE {DATABASE_ALIAS}")
        conn.execute("SET temp_directory = ?", [f"{path}.tmp"])
    except BaseException:
        conn.close()
        raise
    return conn


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def open_failure(path: Path, exc: duckdb.Error) -> str:
    text = first_line(exc)
    if "lock" in text.lower():
        return (
            f"the DuckDB file {path} is open in another process ({text}); close that "
            "program (a DuckDB shell, notebook or another pinads run) and retry"
        )
    return f"cannot open the DuckDB file {path} ({text}); check the path and its permissions"
