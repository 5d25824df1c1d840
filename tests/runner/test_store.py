from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date

import pytest

from pinads.errors import StateError
from pinads.extract.plan import PlanStep, StepKind
from pinads.runner import store as store_module
from pinads.runner.store import SourceStore
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig

CONFIG = SourceConfig(name="shop", dataset="campaign_analytics", authorizer="demo")


def test_sources_round_trip_and_duplicate_name() -> None:
    store = SourceStore(load_settings())
    store.save(CONFIG)
    assert store.get("shop") == CONFIG
    with pytest.raises(Exception, match="a source named 'shop' exists"):
        store.save(CONFIG)
    store.delete("shop")
    with pytest.raises(Exception, match="no source named 'shop'"):
        store.get("shop")
    store.close()


def test_concurrent_runs_exactly_one_proceeds() -> None:
    settings = load_settings()
    store = SourceStore(settings)
    store.save(CONFIG)  # the source (and the tables) exist before the race
    store.close()
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def attempt(index: int) -> None:
        store = SourceStore(settings)
        barrier.wait()
        try:
            store.begin(
                source="shop",
                kind="manual",
                run_id=f"run{index}",
                start=date(2026, 1, 1),
                end=date(2026, 1, 2),
            )
            outcomes.append("ran")
        except StateError as exc:
            assert "source 'shop' is already running" in str(exc)
            outcomes.append("refused")
        finally:
            store.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ran", "refused", "refused", "refused"]


def test_lock_of_a_dead_process_is_released() -> None:
    settings = load_settings()
    first = SourceStore(settings)
    first.save(CONFIG)
    first.close()
    code = (
        "import os\n"
        "from datetime import date\n"
        "from pinads.runner.store import SourceStore\n"
        "from pinads.settings import load_settings\n"
        "s = SourceStore(load_settings())\n"
        "s.begin(source='shop', kind='manual', run_id='dead', start=None, end=None)\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    store = SourceStore(settings)
    store.begin(source="shop", kind="manual", run_id="alive", start=None, end=None)
    runs = {run.id: run for run in store.runs("shop")}
    assert runs["dead"].status == "interrupted"
    error = runs["dead"].error or ""
    assert error.startswith(f"interrupted: its process ({socket.gethostname()} pid ")
    assert error.endswith("run it again with `pinads run shop`")
    assert runs["alive"].status == "running"
    store.close()


def _until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_heartbeat_batches_and_a_lost_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "HEARTBEAT_SECONDS", 0.05)
    store = SourceStore(load_settings())
    store.save(CONFIG)
    source_id = store.db.sources.get("shop").id
    store.begin(source="shop", kind="backfill", run_id="r1", start=None, end=None)
    first = store.db.runs.lock_of(source_id)
    assert first is not None
    assert _until(
        lambda: (
            (lock := store.db.runs.lock_of(source_id)) is not None
            and lock.heartbeat_at > first.heartbeat_at
        )
    )
    step = PlanStep(
        step_id="report:1:2026-01-01:2026-06-30",
        kind=StepKind.REPORT,
        account_id="1",
        api_calls=2,
        start=date(2026, 1, 1),
        end=date(2026, 6, 30),
    )
    store.step_done("r1", step, 10)
    assert [(b.batch, b.rows_written) for b in store.db.runs.batches("r1")] == [(1, 10)]
    store.db.runs.release_run_lock(source_id, "r1")  # as if another host took it over
    with pytest.raises(StateError, match="lost its lock"):
        assert _until(lambda: store._live["r1"].lost is not None)
        store.step_done("r1", step, 1)
    store.finish("r1", result=None, error="lost its lock")
    store.close()
