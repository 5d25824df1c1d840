from __future__ import annotations

import subprocess
import sys
import threading
from datetime import date

import pytest

from pinads.errors import StateError
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
    assert runs["dead"].status == "failed"
    assert (runs["dead"].error or "").startswith("the run's process (")
    assert runs["alive"].status == "running"
    store.close()
