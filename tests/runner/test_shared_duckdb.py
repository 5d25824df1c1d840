"""Several runs writing one DuckDB file at once (the default `destination: duckdb`): they queue
for the file instead of failing, every table ends complete, and the file is free for a reader
(a BI tool) while a run waits on the API."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import duckdb
import httpx
from starlette.applications import Starlette

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens
from pinads.extract import RunProgress
from pinads.runner import RunResult, SourceStore, service
from pinads.schedule import utc_now
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig
from pinads.sources.validate import parse_config
from pinads.state.schema import SOURCES

from .emu import make_client, source_doc

GBP_ADVERTISER_ID = "549755813003"  # the demo user is an admin there
PINADS = Path(sys.executable).parent / "pinads"


def _save_due(name: str, document: dict[str, object]) -> None:
    """Save a daily source created two days ago, so its latest slot is due now."""
    store = SourceStore(load_settings())
    try:
        store.save(SourceConfig.model_validate({"name": name, **document}))
        with store.db.engine.begin() as conn:
            conn.execute(
                SOURCES.update()
                .where(SOURCES.c.name == name)
                .values(created_at=utc_now() - timedelta(days=2))
            )
    finally:
        store.close()


def test_run_due_with_three_workers_on_one_default_duckdb_file_runs_all_three(
    authorizer: str, pinads_home: Path
) -> None:
    analytics = {
        "dataset": "campaign_analytics",
        "authorizer": authorizer,
        "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
        "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
        "date_range": "last_30_days",
        "schedule": "daily 00:00",
    }
    _save_due("eur_daily", {**analytics, "accounts": [EUR_ADVERTISER_ID]})
    _save_due("gbp_daily", {**analytics, "accounts": [GBP_ADVERTISER_ID]})
    _save_due(
        "campaign_list",
        {
            "dataset": "campaigns",
            "authorizer": authorizer,
            "accounts": [EUR_ADVERTISER_ID, GBP_ADVERTISER_ID],
            "schedule": "daily 00:00",
        },
    )
    done = subprocess.run(
        [str(PINADS), "run-due", "--workers", "3"],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 due: 3 ok, 0 failed, 0 skipped" in done.stdout, done.stdout + done.stderr
    store = SourceStore(load_settings())
    try:
        expected = {name: store.runs(name)[0].rows_written for name in store.names()}
        statuses = {name: store.runs(name)[0].status for name in store.names()}
    finally:
        store.close()
    assert statuses == dict.fromkeys(expected, "succeeded")
    with duckdb.connect(str(pinads_home / "pinads.duckdb"), read_only=True) as conn:
        counts = {
            name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
            for name in expected
        }
    assert counts == expected and all(counts.values())


def test_two_processes_running_sources_on_one_file_both_succeed(
    authorizer: str, pinads_home: Path
) -> None:
    for name, account in (("eur_daily", EUR_ADVERTISER_ID), ("gbp_daily", GBP_ADVERTISER_ID)):
        _save_due(
            name,
            {
                "dataset": "campaign_analytics",
                "authorizer": authorizer,
                "accounts": [account],
                "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
                "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
                "date_range": "last_90_days",
            },
        )
    runs = [
        subprocess.Popen(
            [str(PINADS), "run", name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "250"},
        )
        for name in ("eur_daily", "gbp_daily")
    ]
    outcomes = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outcomes
    store = SourceStore(load_settings())
    try:
        expected = {name: store.runs(name)[0].rows_written for name in store.names()}
    finally:
        store.close()
    with duckdb.connect(str(pinads_home / "pinads.duckdb"), read_only=True) as conn:
        counts = {
            name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
            for name in expected
        }
    assert counts == expected and all(counts.values())


class HeldAnalytics(httpx.BaseTransport):
    """The in-process emulator; the second analytics request waits until `gate` opens."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.held = threading.Event()
        self.calls = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/analytics"):
            with self.lock:
                self.calls += 1
                second = self.calls == 2
            if second:
                self.held.set()
                assert self.gate.wait(timeout=60)
        return self.inner.handle_request(request)


READER = """
import sys, time
import duckdb
deadline = time.monotonic() + 10
while True:  # a BI tool's retry: the writer may be finishing its commit
    try:
        conn = duckdb.connect(sys.argv[1], read_only=True)
        break
    except duckdb.IOException:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.1)
print(conn.execute("SELECT count(*) FROM shop").fetchone()[0])
conn.close()
"""


def _read_in_another_process(path: Path) -> str:
    """What a BI tool does: open the file read-only, count the rows, close it."""
    done = subprocess.run(
        [sys.executable, "-c", READER, str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_another_process_reads_the_file_while_a_run_waits_on_the_api(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    today = emulator_app.state.emulator.today()
    # Two accounts, one analytics step each: the second waits at the gate.
    document = source_doc(
        tmp_path, accounts=[EUR_ADVERTISER_ID, GBP_ADVERTISER_ID], date_range="last_30_days"
    )
    config, _ = parse_config(document, today=today)
    store = SourceStore(load_settings())
    store.save(config)
    store.close()
    held = HeldAnalytics(emulator_transport)
    first_done = threading.Event()
    rows_after_first: list[int] = []

    def progress(state: RunProgress) -> None:
        if state.steps_done == 1 and not first_done.is_set():
            rows_after_first.append(state.rows)
            first_done.set()

    results: list[object] = []

    def run() -> None:
        try:
            results.append(
                service.run(
                    "shop",
                    opener=lambda _label: make_client(held, emulator_tokens),
                    today=today,
                    progress=progress,
                )
            )
        except Exception as exc:  # noqa: BLE001 - handed to the test thread
            results.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    try:
        assert held.held.wait(timeout=60) and first_done.wait(timeout=60)
        # The run waits on Pinterest for its second step: the file is free for a reader.
        seen = _read_in_another_process(tmp_path / "shop.duckdb")
        assert runner.is_alive()
    finally:
        held.gate.set()
        runner.join(timeout=120)
    [result] = results
    assert isinstance(result, RunResult), result
    assert result.steps == 2
    assert seen == str(rows_after_first[0]) and rows_after_first[0] > 0
    assert _read_in_another_process(tmp_path / "shop.duckdb") == str(result.rows_written)
