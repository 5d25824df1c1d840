"""Run locks: one live run per source (threads and processes), dead holders taken over."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pinads.errors import StateError
from pinads.settings import load_settings
from pinads.state import ControlDB, RunLockHeartbeat, RunStatus, open_control_db, pid_alive
from pinads.state.db import utc_now
from pinads.state.schema import RUN_LOCKS
from pinads.values import RunKind


def test_two_concurrent_acquirers_in_threads_exactly_one_wins(db: ControlDB) -> None:
    source = db.sources.create("s", {}, authorizer_id=None)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        barrier.wait()
        try:
            db.runs.acquire_run_lock(source.id, f"run{index}")
            result = "won"
        except StateError as exc:
            result = str(exc)
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("won") == 1
    assert all("is already running" in o for o in outcomes if o != "won")


_ACQUIRE = """
import sys
from pinads.errors import StateError
from pinads.state import open_control_db
with open_control_db(url=sys.argv[1]) as db:
    try:
        db.runs.acquire_run_lock(db.sources.get("s").id, sys.argv[2])
        print("won", flush=True)
    except StateError as exc:
        print(exc, flush=True)
    sys.stdin.read()  # stay alive until every process has tried: a live holder is not dead
"""


def test_concurrent_acquirers_in_separate_processes_exactly_one_wins(control_url: str) -> None:
    load_settings().ensure_home()
    with open_control_db(url=control_url) as db:
        db.sources.create("s", {}, authorizer_id=None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _ACQUIRE, control_url, f"proc{i}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    outcomes = []
    for proc in procs:
        assert proc.stdout is not None
        outcomes.append(proc.stdout.readline().strip())
    for proc in procs:
        proc.communicate("", timeout=30)
    assert outcomes.count("won") == 1, outcomes
    assert sum("is already running" in o for o in outcomes) == 2, outcomes


def _dead_pid() -> int:
    proc = subprocess.run(  # a process that has exited: its pid is not alive any more
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


def test_dead_pid_holder_is_taken_over_and_its_run_marked_interrupted(db: ControlDB) -> None:
    source = db.sources.create("s", {}, authorizer_id=None)
    dead = _dead_pid()
    assert not pid_alive(dead)
    crashed = db.runs.start(source.id, kind=RunKind.SCHEDULED, pid=dead)
    db.runs.acquire_run_lock(source.id, crashed.id, pid=dead)
    new = db.runs.start(source.id, kind=RunKind.MANUAL)
    taken = db.runs.acquire_run_lock(source.id, new.id)
    assert taken.run_id == new.id
    holder = db.runs.lock_of(source.id)
    assert holder is not None and holder.run_id == new.id
    failed = db.runs.get(crashed.id)
    assert failed.status is RunStatus.INTERRUPTED
    assert failed.error is not None and "died" in failed.error
    with pytest.raises(StateError, match="lost its lock"):
        db.runs.heartbeat(source.id, crashed.id)
    db.runs.heartbeat(source.id, new.id)
    with pytest.raises(StateError, match="is already running"):  # our pid is alive
        db.runs.acquire_run_lock(source.id, "third")


def test_stale_heartbeat_on_another_host_is_taken_over(db: ControlDB) -> None:
    source = db.sources.create("s", {}, authorizer_id=None)
    now = utc_now()
    with db.engine.begin() as conn:
        conn.execute(
            RUN_LOCKS.insert().values(
                source_id=source.id,
                run_id="remote",
                pid=1,
                host="another-machine",
                acquired_at=now - timedelta(hours=2),
                heartbeat_at=now - timedelta(minutes=1),
            )
        )
    with pytest.raises(StateError, match="pid 1 on another-machine"):
        db.runs.acquire_run_lock(source.id, "mine")  # fresh heartbeat: alive
    with db.engine.begin() as conn:
        conn.execute(
            sa.update(RUN_LOCKS).values(heartbeat_at=now - db.runs.stale_after - timedelta(1))
        )
    assert db.runs.acquire_run_lock(source.id, "mine").run_id == "mine"


def _wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in 10 s")


def test_heartbeat_keeps_the_lock_fresh_and_reports_a_takeover(db: ControlDB) -> None:
    source = db.sources.create("s", {}, authorizer_id=None)
    lock = db.runs.acquire_run_lock(source.id, "long")
    with RunLockHeartbeat(db.runs, source.id, "long", interval=timedelta(milliseconds=20)) as hb:
        _wait_for(lambda: hb.beats >= 2)
        current = db.runs.lock_of(source.id)
        assert current is not None and current.heartbeat_at > lock.heartbeat_at
        db.runs.release_run_lock(source.id, "long")  # as if another host took it over
        _wait_for(lambda: hb.lost is not None)
    assert hb.lost is not None and "lost its lock" in hb.lost.message
