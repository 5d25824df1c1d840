"""Scale-out as an operator runs it: `pinads worker` and `pinads scheduler` processes on one
broker (the real Redis), one control DB (the real PostgreSQL, a fresh schema per test) and one
Pinterest (the emulator on a loopback port with tight rate limits, so the shared budget binds
within seconds).

- 3 workers and 2 schedulers, 20 due sources: each slot runs once, no call answers 429, and
  every table equals a single-process run of the same source (made in this process meanwhile,
  drawing from the same budget).
- A worker SIGKILLed in the middle of a backfill batch: the batch is delivered to the other
  worker and finishes from its checkpoints, without a duplicate row.
- RabbitMQ as the broker: a run goes through a worker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psycopg
import pytest
import redis
import sqlalchemy as sa

from pinads.auth import AuthorizerService
from pinads.catalog import get_dataset
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EUR_ADVERTISER_ID,
    EmulatorConfig,
    EmulatorServer,
)
from pinads.emulator.analytics import attribution_from
from pinads.emulator.limits import RateLimitConfig
from pinads.emulator.reporting import ReportQuery, build_rows
from pinads.load import open_destination
from pinads.runner import SourceStore, run_source
from pinads.runner.service import get_source
from pinads.schedule import utc_now
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig
from pinads.state.schema import RUN_LOCKS, RUNS, SLOT_CLAIMS, SOURCES
from pinads.values import RunKind

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PINADS = Path(sys.executable).parent / "pinads"
PG = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"
RABBIT = "amqp://guest:guest@127.0.0.1:5672//"
SECOND_ACCOUNT = "549755813003"
THIRD_ACCOUNT = "549755813007"
METRICS = ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"]
# Per 1-second window, on the emulator's side and in the budget pinads paces by.
WINDOW = 1.0
PER_WINDOW = {"ads_analytics": 6, "ads_read": 10, "org_read": 10}


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    limits = RateLimitConfig().scaled(window_seconds=WINDOW, per_window=PER_WINDOW)
    # A report is FINISHED at its second poll: a backfill batch of two accounts is two reports
    # written one after the other, long enough to kill its worker between them.
    return EmulatorConfig(seed=7, rate_limits=limits, report_polls_until_finished=1)


def _rate_limits_json() -> str:
    categories = {name: {"calls": n, "per_seconds": WINDOW} for name, n in PER_WINDOW.items()}
    return json.dumps({"categories": categories})


@pytest.fixture
def control_url() -> Iterator[str]:
    schema = f"pinads_scale_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"pinads-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def env(
    control_url: str,
    prefix: str,
    emulator_server: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """The environment of every pinads process of the test (this one included): one control
    DB, one broker and Redis under the test's own prefix, the emulator's limits."""
    values = {
        "PINADS_DATABASE_URL": control_url,
        "PINADS_BROKER_URL": REDIS,
        "PINADS_REDIS_PREFIX": prefix,
        "PINADS_RATE_LIMITS": _rate_limits_json(),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    minted = httpx.post(
        f"{emulator_server.base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}
    ).json()
    with AuthorizerService(load_settings()) as auth:
        auth.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=minted["refresh_token"],
            api_url=emulator_server.api_url,
            label="demo",
        )
    return {**os.environ, "COLUMNS": "200"}


class Processes:
    """pinads subprocesses, stopped (SIGTERM, then SIGKILL) when the test ends."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
        log = self.logs / f"{args[0]}-{len(self.started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(PINADS), *args], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.started.append(process)
        return process

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def output(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text()}" for p in sorted(self.logs.glob("*.log")))


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    yield running
    running.stop()


def _wait(
    condition: Callable[[], bool],
    processes: Processes,
    *,
    seconds: float = 90,
    interval: float = 0.2,
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; process output:\n{processes.output()}")
        time.sleep(interval)


def _query(statement: Any) -> list[Any]:
    engine = sa.create_engine(load_settings().control_db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(statement))
    finally:
        engine.dispose()


def _stats(server: EmulatorServer) -> dict[str, Any]:
    return dict(httpx.get(f"{server.base_url}/_emulator/stats").json())


def _save_scheduled(name: str, tmp_path: Path, account: str) -> None:
    store = SourceStore(load_settings())
    try:
        store.save(
            SourceConfig.model_validate(
                {
                    "name": name,
                    "dataset": "campaign_analytics",
                    "authorizer": "demo",
                    "accounts": [account],
                    "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
                    "metrics": METRICS,
                    "date_range": "last_7_days",
                    "destination": f"duckdb:///{tmp_path}/{name}.duckdb",
                    "schedule": "daily 06:00",
                }
            )
        )
        with store.db.engine.begin() as conn:  # created two days ago: its latest slot is due
            conn.execute(
                SOURCES.update()
                .where(SOURCES.c.name == name)
                .values(created_at=utc_now() - timedelta(days=2))
            )
    finally:
        store.close()


def _rows(database: Path, table: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(
            f"SELECT CAST(date AS VARCHAR), campaign_id, spend_in_micro_dollar, impression_1 "
            f"FROM {table} ORDER BY 1, 2"
        ).fetchall()


def _run_alone(name: str, tmp_path: Path) -> list[tuple[Any, ...]]:
    """The source run by the runner in this process, without a broker, into a file of its
    own: what a single-process pinads writes. It draws from the same budget in Redis as the
    workers, so it may run beside them."""
    config = get_source(name)
    alone = tmp_path / "alone" / f"{name}.duckdb"
    alone.parent.mkdir(exist_ok=True)
    settings = load_settings().model_copy(update={"broker_url": None, "redis_url": REDIS})
    with AuthorizerService(settings) as auth, auth.open_client("demo") as client:
        destination = open_destination(f"duckdb:///{alone}", settings=settings)
        try:
            run_source(
                config,
                get_dataset(config.dataset),
                client=client,
                destination=destination,
                kind=RunKind.SCHEDULED,
            )
        finally:
            destination.close()
    return _rows(alone, name)


def test_workers_and_schedulers_share_the_budget_and_run_each_slot_once(
    env: dict[str, str], emulator_server: EmulatorServer, processes: Processes, tmp_path: Path
) -> None:
    names = [f"shop_{i:02d}" for i in range(20)]
    for index, name in enumerate(names):
        _save_scheduled(name, tmp_path, EUR_ADVERTISER_ID if index % 2 else SECOND_ACCOUNT)
    for _ in range(3):
        processes.start(env, "worker", "--concurrency", "2", "--loglevel", "WARNING")
    for _ in range(2):
        processes.start(env, "scheduler", "--max-sleep", "1", "--lease-seconds", "3")
    with ThreadPoolExecutor(4) as pool:  # while the workers and schedulers start
        tables = pool.map(lambda name: _run_alone(name, tmp_path), names)
        alone = dict(zip(names, tables, strict=True))

    def all_finished() -> bool:
        done = sa.select(sa.func.count()).where(RUNS.c.status != "running")
        return int(_query(done)[0][0]) >= len(names)

    _wait(all_finished, processes)
    time.sleep(2)  # two more scheduler checks: nothing may run a second time
    processes.stop()

    runs = _query(sa.select(RUNS.c.source_id, RUNS.c.kind, RUNS.c.status))
    assert sorted((kind, status) for _, kind, status in runs) == [("scheduled", "succeeded")] * 20
    assert len({source for source, _, _ in runs}) == 20
    claims = _query(sa.select(SLOT_CLAIMS.c.source_id, SLOT_CLAIMS.c.claimed_by))
    assert len(claims) == 20 == len({source for source, _ in claims})
    stats = _stats(emulator_server)
    assert stats["statuses"].get("429", 0) == 0, stats
    assert stats["categories"]["ads_analytics"] >= 40  # 20 sources, twice
    for name in names:
        distributed = _rows(tmp_path / f"{name}.duckdb", name)
        assert distributed and distributed == alone[name]


def _truth(
    server: EmulatorServer, accounts: list[str], start: Any, end: Any
) -> set[tuple[Any, ...]]:
    state = server.state
    attribution = attribution_from({}, today=state.today_ordinal())
    truth: set[tuple[Any, ...]] = set()
    for account in accounts:
        query = ReportQuery(
            account_id=account,
            level="CAMPAIGN",
            start_day=start.toordinal(),
            end_day=end.toordinal(),
            granularity="DAY",
            columns=tuple(METRICS),
            attribution=attribution,
        )
        for row in build_rows(state.world, query).table.to_pylist():
            truth.add((row["DATE"], row["CAMPAIGN_ID"], *(row[m] for m in METRICS)))
    return truth


def test_a_batch_whose_worker_is_killed_finishes_on_another(
    env: dict[str, str],
    emulator_server: EmulatorServer,
    processes: Processes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Analytics calls paced at one a second (stricter than the emulator): the batch's three
    # reports are then written about a second apart, time enough to kill between two.
    slow = {"categories": {"ads_analytics": {"calls": 1, "per_seconds": 1.0}}}
    env = {
        **env,
        "PINADS_BROKER_VISIBILITY_TIMEOUT": "3",
        "PINADS_RATE_LIMITS": json.dumps(slow),
    }
    accounts = [EUR_ADVERTISER_ID, SECOND_ACCOUNT, THIRD_ACCOUNT]
    database = tmp_path / "history.duckdb"
    store = SourceStore(load_settings())
    try:
        store.save(
            SourceConfig.model_validate(
                {
                    "name": "history",
                    "dataset": "campaign_analytics",
                    "authorizer": "demo",
                    "accounts": accounts,
                    "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
                    "metrics": METRICS,
                    "destination": f"duckdb:///{database}",
                }
            )
        )
    finally:
        store.close()
    today = emulator_server.state.today()
    start, end = today - timedelta(days=300), today - timedelta(days=200)  # one report batch
    workers = [processes.start(env, "worker", "--concurrency", "1") for _ in range(2)]
    backfill = subprocess.Popen(
        [str(PINADS), "backfill", "history", "--from", str(start), "--to", str(end)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    progress = sa.select(sa.func.count()).select_from(sa.text("backfill_progress"))
    holder: list[Any] = []

    def one_report_written() -> bool:  # and the batch still running
        holder[:] = _query(sa.select(RUN_LOCKS.c.pid, RUN_LOCKS.c.run_id))
        return bool(holder) and int(_query(progress)[0][0]) >= 1

    _wait(one_report_written, processes, interval=0.02)
    (doomed,) = [worker for worker in workers if worker.pid == holder[0][0]]
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    out, err = backfill.communicate(timeout=90)
    assert backfill.returncode == 0, f"{out}\n{err}\n{processes.output()}"

    runs = _query(sa.select(RUNS.c.id, RUNS.c.status).order_by(RUNS.c.started_at))
    killed = holder[0][1]
    assert runs == [(killed, "interrupted"), (f"{killed}.1", "succeeded")]
    with duckdb.connect(str(database), read_only=True) as conn:
        rows = conn.execute(
            "SELECT CAST(date AS VARCHAR), campaign_id, spend_in_micro_dollar, impression_1 "
            "FROM history"
        ).fetchall()
    assert len(rows) == len(set(rows))  # no duplicate
    assert set(rows) == _truth(emulator_server, accounts, start, end)
    assert _stats(emulator_server)["statuses"].get("429", 0) == 0


def test_rabbitmq_as_the_broker(env: dict[str, str], processes: Processes, tmp_path: Path) -> None:
    env = {**env, "PINADS_BROKER_URL": RABBIT, "PINADS_REDIS_URL": REDIS}
    _save_scheduled("rabbit", tmp_path, EUR_ADVERTISER_ID)
    processes.start(env, "worker", "--concurrency", "1")
    for command in ("run", "preview"):
        done = subprocess.run(
            [str(PINADS), command, "rabbit"],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{processes.output()}"
    runs = _query(sa.select(RUNS.c.kind, RUNS.c.pid, RUNS.c.status).order_by(RUNS.c.started_at))
    worker = processes.started[0].pid
    assert runs == [("manual", worker, "succeeded"), ("preview", worker, "succeeded")]
    assert _rows(tmp_path / "rabbit.duckdb", "rabbit")
