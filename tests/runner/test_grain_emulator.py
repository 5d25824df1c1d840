"""Edits that change a table's grain: refused for a table the source has written, or done as a
rebuild that swaps a complete new table in. The in-process emulator, real DuckDB files, the
real PostgreSQL server and the real control DB."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psycopg
import pytest
from starlette.applications import Starlette

from pinads.api import PinterestClient
from pinads.catalog.model import Granularity
from pinads.emulator import EUR_ADVERTISER_ID
from pinads.emulator.guards import guards_of
from pinads.emulator.limits import FaultConfig
from pinads.emulator.tokens import IssuedTokens
from pinads.errors import AuthError, ConfigError
from pinads.extract.plan import Plan, StepKind
from pinads.load import open_destination
from pinads.runner import SourceStore, service
from pinads.runner.grain import TableGrainError
from pinads.runner.rebuild import rebuild_period
from pinads.runner.run import run_source
from pinads.settings import load_settings
from pinads.sources.validate import parse_config
from pinads.state import RunStatus
from pinads.values import DateRange, RunKind, shadow_name

from .emu import ATTRIBUTION, FAST_POLLING, make_client, raw_get, source_doc

PG = "postgresql://postgres@127.0.0.1:5432/test"
METRICS = ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "TOTAL_CONVERSIONS"]
GBP_ADVERTISER_ID = "549755813003"


def _pg_up() -> bool:
    try:
        with psycopg.connect(PG, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(params=["duckdb", "postgres", "parquet"])
def destination_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path}/shop.duckdb"
        return
    if request.param == "parquet":
        yield f"file://{tmp_path}/tables?format=parquet"
        return
    if not _pg_up():
        pytest.skip(f"PostgreSQL is not running at {PG}")
    schema = f"pinads_g_{uuid.uuid4().hex[:12]}"
    yield f"{PG}?schema={schema}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


Opener = Callable[[str], PinterestClient]


@pytest.fixture
def opener(emulator_transport: httpx.BaseTransport, emulator_tokens: IssuedTokens) -> Opener:
    return lambda _label: make_client(emulator_transport, emulator_tokens)


def _period(app: Starlette) -> tuple[date, date]:
    today: date = app.state.emulator.today()
    return today - timedelta(days=27), today - timedelta(days=1)


def _doc(app: Starlette, tmp_path: Path, url: str, **extra: Any) -> dict[str, Any]:
    start, end = _period(app)
    span = {"start": start.isoformat(), "end": end.isoformat()}
    return source_doc(
        tmp_path, **{"destination": url, "metrics": METRICS, "date_range": span, **extra}
    )


def _rows(url: str) -> list[dict[str, Any]]:
    destination = open_destination(url, settings=load_settings())
    try:
        table = destination.read_table("shop").drop_columns(["_pinads_extracted_at"])
    finally:
        destination.close()
    return sorted(
        table.to_pylist(), key=lambda r: (r["date"], r["campaign_id"], r["_pinads_run_id"])
    )


def _has_shadow(url: str) -> bool:
    destination = open_destination(url, settings=load_settings())
    try:
        destination.read_table(shadow_name("shop"))
    except Exception:  # noqa: BLE001 - LoadError: absent, as it must be
        return False
    finally:
        destination.close()
    return True


def _registered_as_pinads(url: str) -> bool:
    """The table is in pinads' registry of its own tables, and its comment carries the id
    (files destinations mark a dataset by its manifest instead: checked by reading it)."""
    if url.startswith("file:"):
        return True
    if url.startswith("duckdb:"):
        with duckdb.connect(url.removeprefix("duckdb:///"), read_only=True) as conn:
            [(table_id,)] = conn.execute(
                "SELECT table_id FROM _pinads_tables WHERE table_name = 'shop'"
            ).fetchall()
            [(comment,)] = conn.execute(
                "SELECT comment FROM duckdb_tables() WHERE table_name = 'shop'"
            ).fetchall()
        return f"pinads:{table_id}" in (comment or "")
    schema = url.split("schema=")[1]
    with psycopg.connect(PG) as conn:
        [(table_id,)] = conn.execute(
            f'SELECT table_id FROM "{schema}"._pinads_tables WHERE table_name = %s', ("shop",)
        ).fetchall()
        [(comment,)] = conn.execute(
            "SELECT obj_description(%s::regclass)", (f'"{schema}".shop',)
        ).fetchall()
    return f"pinads:{table_id}" in (comment or "")


def _emulator_totals(
    transport: httpx.BaseTransport, token: str, app: Starlette, *, granularity: str
) -> dict[tuple[str, str], tuple[Any, ...]]:
    start, end = _period(app)
    rows = raw_get(
        transport,
        token,
        f"/ad_accounts/{EUR_ADVERTISER_ID}/campaigns/analytics",
        {
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "columns": ",".join(METRICS),
            "granularity": granularity,
            "campaign_ids": _campaigns(transport, token),
            **ATTRIBUTION,
        },
    )
    return {
        (r["DATE"], str(r["CAMPAIGN_ID"])): tuple(
            None if r.get(m) is None else int(r[m]) for m in METRICS
        )
        for r in rows
    }


def _campaigns(transport: httpx.BaseTransport, token: str) -> list[str]:
    page = raw_get(
        transport,
        token,
        f"/ad_accounts/{EUR_ADVERTISER_ID}/campaigns",
        {"page_size": 250, "entity_statuses": ["ACTIVE", "PAUSED", "ARCHIVED"]},
    )
    return [item["id"] for item in page["items"]]


def _table_totals(rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (r["date"].isoformat(), r["campaign_id"]): tuple(r[m.lower()] for m in METRICS)
        for r in rows
    }


@pytest.fixture
def weekly_truth(
    emulator_app: Starlette, emulator_transport: httpx.BaseTransport, emulator_tokens: IssuedTokens
) -> dict[tuple[str, str], tuple[Any, ...]]:
    """The emulator's WEEK rows of the EUR advertiser's campaigns over the test's range."""
    token = emulator_tokens.access_token
    return _emulator_totals(emulator_transport, token, emulator_app, granularity="WEEK")


def _first_run(app: Starlette, tmp_path: Path, url: str, opener: Opener, **extra: Any) -> None:
    service.create_source(_doc(app, tmp_path, url, **extra), opener=opener)
    service.run("shop", opener=opener, today=app.state.emulator.today())


def test_day_to_week_is_refused_with_the_fields_and_the_table_is_unchanged(
    emulator_app: Starlette, tmp_path: Path, destination_url: str, opener: Opener
) -> None:
    _first_run(emulator_app, tmp_path, destination_url, opener)
    before = _rows(destination_url)
    weekly = _doc(emulator_app, tmp_path, destination_url, granularity="WEEK")

    with pytest.raises(TableGrainError) as refused:
        service.update_source(weekly, opener=opener)

    message = str(refused.value)
    assert isinstance(refused.value, ConfigError)  # CLI exit 2, shown on the form
    assert "granularity (DAY -> WEEK: WEEK totals would be written next to the DAY rows" in message
    assert "create a new source with this config" in message
    assert "pinads sources edit shop --file FILE --rebuild" in message
    assert service.get_source("shop").granularity.value == "DAY"
    assert _rows(destination_url) == before and before
    # The next run still writes the grain the table has.
    service.run("shop", opener=opener, today=emulator_app.state.emulator.today())
    assert {r["date"] for r in _rows(destination_url)} == {r["date"] for r in before}


def test_an_attribution_window_change_is_refused(
    emulator_app: Starlette, tmp_path: Path, opener: Opener
) -> None:
    url = f"duckdb:///{tmp_path}/shop.duckdb"
    _first_run(emulator_app, tmp_path, url, opener)
    before = _rows(url)
    changed = _doc(emulator_app, tmp_path, url, click_window_days=7, view_window_days=7)

    with pytest.raises(TableGrainError) as refused:
        service.create_source(changed, opener=opener, replace=True)  # the old entry point too

    message = str(refused.value)
    assert "click_window_days (30 -> 7: attribution settings are key columns" in message
    assert "view_window_days (1 -> 7" in message
    assert "sums over the table would double" in message
    assert service.get_source("shop").click_window_days == 30
    assert _rows(url) == before


def test_edits_that_keep_the_grain_are_saved(
    emulator_app: Starlette, tmp_path: Path, opener: Opener
) -> None:
    url = f"duckdb:///{tmp_path}/shop.duckdb"
    _first_run(emulator_app, tmp_path, url, opener, accounts=[EUR_ADVERTISER_ID])
    edited = _doc(
        emulator_app,
        tmp_path,
        url,
        accounts=[EUR_ADVERTISER_ID, GBP_ADVERTISER_ID],  # more accounts
        metrics=[*METRICS, "CLICKTHROUGH_1"],
        metadata=["extracted_at", "run_id", "account_currency"],
        schedule="daily 06:00",
        allow_empty=True,
        lookback_days=7,
        date_range="last_7_days",
        write_mode="insert_ignore",
    )
    config, rebuilt = service.update_source(edited, opener=opener)
    assert rebuilt is None
    assert service.get_source("shop") == config and config.lookback_days == 7


def test_a_source_that_wrote_nothing_can_change_its_grain(
    emulator_app: Starlette, tmp_path: Path, opener: Opener
) -> None:
    url = f"duckdb:///{tmp_path}/shop.duckdb"
    service.create_source(_doc(emulator_app, tmp_path, url), opener=opener)
    service.preview("shop", opener=opener)  # Test Data writes nothing
    weekly = _doc(emulator_app, tmp_path, url, granularity="WEEK", click_window_days=7)
    config, rebuilt = service.update_source(weekly, opener=opener)
    assert rebuilt is None and service.get_source("shop").granularity.value == "WEEK"
    assert config.click_window_days == 7


def test_rebuild_day_to_week_leaves_only_the_emulators_weekly_totals(
    emulator_app: Starlette,
    weekly_truth: dict[tuple[str, str], tuple[Any, ...]],
    tmp_path: Path,
    destination_url: str,
    opener: Opener,
) -> None:
    _first_run(emulator_app, tmp_path, destination_url, opener)
    weekly = _doc(emulator_app, tmp_path, destination_url, granularity="WEEK")
    seen: list[Any] = []

    config, result = service.update_source(
        weekly,
        rebuild=True,
        opener=opener,
        today=emulator_app.state.emulator.today(),
        progress=lambda state: seen.append((state.steps_shown, state.steps_total)),
    )

    assert result is not None and result.kind.value == "rebuild"
    assert (result.start, result.end) == _period(emulator_app)
    assert service.get_source("shop").granularity.value == "WEEK" == config.granularity.value
    truth = weekly_truth
    rows = _rows(destination_url)
    assert _table_totals(rows) == truth and len(rows) == len(truth) > 0
    assert {r["_pinads_run_id"] for r in rows} == {result.run_id}  # no daily row left
    assert not _has_shadow(destination_url)
    assert _registered_as_pinads(destination_url)
    assert seen and seen[-1][0] == seen[-1][1]  # progress reached every step
    kinds = [run.kind for run in service.list_runs("shop")]
    assert kinds[0] == "rebuild"
    # The rebuilt table keeps its new grain: the next run upserts weekly rows into it.
    service.run("shop", opener=opener, today=emulator_app.state.emulator.today())
    assert _table_totals(_rows(destination_url)) == truth


def test_a_rebuild_that_fails_midway_leaves_the_old_table_and_config(
    emulator_app: Starlette,
    tmp_path: Path,
    destination_url: str,
    opener: Opener,
) -> None:
    accounts = [EUR_ADVERTISER_ID, GBP_ADVERTISER_ID]
    _first_run(emulator_app, tmp_path, destination_url, opener, accounts=accounts)
    before = _rows(destination_url)
    weekly = _doc(emulator_app, tmp_path, destination_url, granularity="WEEK", accounts=accounts)
    # The first analytics call of the rebuild is answered, the next finds access withdrawn.
    guards_of(emulator_app).set_faults(
        FaultConfig(revoke_tokens_after_requests=1, operations=frozenset({"campaigns/analytics"}))
    )
    try:
        with pytest.raises(AuthError):
            service.update_source(weekly, rebuild=True, opener=opener)
    finally:
        guards_of(emulator_app).set_faults(FaultConfig())

    assert service.get_source("shop").granularity.value == "DAY"
    assert _rows(destination_url) == before
    assert not _has_shadow(destination_url)
    last = service.list_runs("shop")[0]
    assert (last.kind, last.status) == ("rebuild", "failed")


def test_a_rebuild_past_90_days_reads_async_reports_and_keeps_whole_weeks(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    """The table holds 200 days (a backfill): the rebuild reads them as a backfill does
    (async reports, at most 186 days each), and a week cut by two batches is still one row
    with the week's whole totals."""
    today: date = emulator_app.state.emulator.today()
    period = DateRange(start=today - timedelta(days=200), end=today - timedelta(days=1))
    url = f"duckdb:///{tmp_path}/shop.duckdb"
    daily, dataset = parse_config(_doc(emulator_app, tmp_path, url), today=today)
    weekly = daily.model_copy(update={"granularity": Granularity.WEEK})
    store = SourceStore(load_settings())
    store.save(daily)
    destination = open_destination(url, settings=load_settings())
    try:
        with make_client(emulator_transport, emulator_tokens) as client:
            run_source(
                daily,
                dataset,
                client=client,
                destination=destination,
                ledger=store,
                today=today,
                kind=RunKind.BACKFILL,
                period=period,
                polling=FAST_POLLING,
            )
            daily_rows = destination.read_table("shop").to_pylist()
            _, first, last = store.written_span("shop")
            span = rebuild_period(weekly, dataset, first=first, last=last, today=today)
            plans: list[Plan] = []
            result = run_source(
                weekly,
                dataset,
                client=client,
                destination=destination,
                ledger=store,
                today=today,
                kind=RunKind.REBUILD,
                period=span,
                polling=FAST_POLLING,
                on_plan=plans.append,
            )
        rows = destination.read_table("shop").to_pylist()
    finally:
        destination.close()
        store.close()
    assert span == period and (result.start, result.end) == (period.start, period.end)
    [plan] = plans
    assert {step.kind for step in plan.steps} >= {StepKind.REPORT}
    # The days' rows (equal to the emulator's, tests/runner/test_backfill_emulator.py),
    # totalled by ISO week (the emulator's WEEK rows are keyed by their Monday).
    truth: dict[tuple[str, str], list[int]] = {}
    for row in daily_rows:
        monday = row["date"] - timedelta(days=row["date"].weekday())
        sums = truth.setdefault((monday.isoformat(), row["campaign_id"]), [0] * len(METRICS))
        for n, metric in enumerate(METRICS):
            sums[n] += row[metric.lower()] or 0
    totals = {key: tuple(v or 0 for v in values) for key, values in _table_totals(rows).items()}
    assert totals == {key: tuple(values) for key, values in truth.items()}
    assert any(row["date"] < period.start for row in rows)  # a week cut by the range start


def test_a_grain_change_in_replace_mode_is_saved_and_the_next_run_replaces_the_table(
    emulator_app: Starlette,
    weekly_truth: dict[tuple[str, str], tuple[Any, ...]],
    tmp_path: Path,
    opener: Opener,
) -> None:
    url = f"duckdb:///{tmp_path}/shop.duckdb"
    _first_run(emulator_app, tmp_path, url, opener)
    weekly = _doc(emulator_app, tmp_path, url, granularity="WEEK", write_mode="replace")
    config, rebuilt = service.update_source(weekly, opener=opener)
    assert rebuilt is None and config.granularity.value == "WEEK"
    result = service.run("shop", opener=opener, today=emulator_app.state.emulator.today())
    rows = _rows(url)
    assert _table_totals(rows) == weekly_truth
    assert {r["_pinads_run_id"] for r in rows} == {result.run_id}


def test_what_a_rebuild_cannot_give_back_is_refused_before_it_starts(
    emulator_app: Starlette, tmp_path: Path, opener: Opener
) -> None:
    url = f"duckdb:///{tmp_path}/shop.duckdb"
    _first_run(emulator_app, tmp_path, url, opener, write_mode="append")
    weekly = _doc(emulator_app, tmp_path, url, granularity="WEEK", write_mode="append")
    with pytest.raises(ConfigError, match="keeps a snapshot of every run, which a rebuild"):
        service.update_source(weekly, rebuild=True, opener=opener)

    service.delete_source("shop")
    # The snapshot table stays behind with its grain, so the upsert source recreated under
    # the same name writes another file: its own history from scratch.
    url = f"duckdb:///{tmp_path}/shop-upsert.duckdb"
    _first_run(emulator_app, tmp_path, url, opener)  # upsert, into a fresh history
    today: date = emulator_app.state.emulator.today()
    store = SourceStore(load_settings())
    try:  # a backfill recorded from 1,000 days back: older than Pinterest keeps
        source_id = store.db.sources.get("shop").id
        old = store.db.runs.start(
            source_id,
            kind=RunKind.BACKFILL,
            range_start=today - timedelta(days=1000),
            range_end=today - timedelta(days=900),
        )
        store.db.runs.finish(old.id, status=RunStatus.SUCCEEDED, rows_written=10)
    finally:
        store.close()
    weekly = _doc(emulator_app, tmp_path, url, granularity="WEEK")
    with pytest.raises(ConfigError, match="a rebuild would lose the days before"):
        service.update_source(weekly, rebuild=True, opener=opener)
    assert service.get_source("shop").granularity.value == "DAY"
