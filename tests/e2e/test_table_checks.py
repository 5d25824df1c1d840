"""What a destination table says about itself, checked on DuckDB and PostgreSQL: a table
emptied by hand (DELETE FROM, TRUNCATE) keeps no checkpoint, so the next backfill loads its
steps again and says why instead of reporting them "already done" over an empty table; a table
created for one grain is refused to a source deleted and created again with another."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import psycopg
import pytest
import yaml
from typer.testing import CliRunner

from pinads.cli import app
from pinads.emulator import EUR_ADVERTISER_ID, EmulatorServer

PG = "postgresql://postgres@127.0.0.1:5432/test"
Query = Callable[[str], list[tuple[object, ...]]]


def pinads(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return getattr(result.exception, "exit_code", 1), f"{result.output}{result.exception}"
    return result.exit_code, result.output


def _pg_up() -> bool:
    try:
        with psycopg.connect(PG, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(params=["duckdb", "postgresql"])
def destination(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Query]]:
    """(destination URL, run SQL there) for a fresh DuckDB file or PostgreSQL schema."""
    if request.param == "duckdb":
        path = tmp_path / "ads.duckdb"

        def in_duckdb(sql: str) -> list[tuple[object, ...]]:
            with duckdb.connect(str(path)) as conn:
                return conn.execute(sql).fetchall()

        yield f"duckdb://{path}", in_duckdb
        return
    if not _pg_up():
        pytest.fail(f"PostgreSQL is not running at {PG}")
    schema = f"pinads_empty_{uuid.uuid4().hex[:10]}"

    def in_postgres(sql: str) -> list[tuple[object, ...]]:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{PG}?schema={schema}", in_postgres
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _source_file(tmp_path: Path, url: str, **changes: object) -> Path:
    source = tmp_path / "campaign_daily.yaml"
    document = {
        "name": "campaign_daily",
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
        "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
        "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
        "date_range": "last_7_days",
        "destination": url,
    }
    source.write_text(yaml.safe_dump({**document, **changes}))
    return source


def test_an_emptied_table_is_loaded_again_by_the_next_backfill(
    authorizer: str,
    emulator_server: EmulatorServer,
    tmp_path: Path,
    destination: tuple[str, Query],
) -> None:
    url, query = destination
    source = _source_file(tmp_path, url)
    assert pinads("sources", "create", "--file", str(source))[0] == 0
    today = emulator_server.state.today()
    start, end = today - timedelta(days=300), today - timedelta(days=200)
    backfill = ["backfill", "campaign_daily", "--from", str(start), "--to", str(end)]
    code, first = pinads(*backfill)
    assert code == 0, first
    keys = "SELECT date, ad_account_id, campaign_id FROM campaign_daily ORDER BY 1, 2, 3"
    loaded = query(keys)
    assert loaded
    query("DELETE FROM campaign_daily" if url.startswith("duckdb") else "TRUNCATE campaign_daily")

    code, again = pinads(*backfill)
    assert code == 0, again
    assert "(0 already done)" in again
    assert "table campaign_daily was gone from the destination or emptied" in again
    assert query(keys) == loaded

    code, resumed = pinads(*backfill)
    assert code == 0 and "(0 already done)" not in resumed and "or emptied:" not in resumed
    assert query(keys) == loaded


@pytest.mark.parametrize(
    ("changes", "difference"),
    [
        ({"granularity": "WEEK"}, "granularity DAY -> WEEK"),
        ({"click_window_days": 7}, "click_window_days 30 -> 7"),
        (
            {"granularity": "HOUR", "attributes": ["DATE", "HOUR", "AD_ACCOUNT_ID", "CAMPAIGN_ID"]},
            "key [ad_account_id, campaign_id, date, _pinads_",
        ),
    ],
    ids=["granularity", "window", "key"],
)
def test_a_source_created_again_with_another_grain_is_refused_its_old_table(
    authorizer: str,
    tmp_path: Path,
    destination: tuple[str, Query],
    changes: dict[str, object],
    difference: str,
) -> None:
    url, query = destination
    assert pinads("sources", "create", "--file", str(_source_file(tmp_path, url)))[0] == 0
    code, first = pinads("run", "campaign_daily")
    assert code == 0, first
    everything = "SELECT * FROM campaign_daily ORDER BY 1, 2, 3"
    before = query(everything)
    assert before
    assert pinads("sources", "delete", "campaign_daily", "--yes")[0] == 0
    other = _source_file(tmp_path, url, **changes)
    assert pinads("sources", "create", "--file", str(other))[0] == 0

    code, refused = pinads("run", "campaign_daily")
    assert code == 2, refused
    lines = refused.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("table 'campaign_daily'"), refused
    assert "holds rows of another grain" in refused and difference in refused
    assert "--rebuild" in refused and "another name" in refused
    assert query(everything) == before

    if "HOUR" in changes.values():
        return  # hourly reports go by the report path, which the emulator's HOUR lacks
    code, rebuilt = pinads("sources", "edit", "campaign_daily", "--file", str(other), "--rebuild")
    assert code == 0, rebuilt
    assert "its table was rebuilt with the new config" in rebuilt
    code, again = pinads("run", "campaign_daily")
    assert code == 0, again
    windows = "SELECT DISTINCT _pinads_click_window_days FROM campaign_daily"
    assert query(windows) == [(changes.get("click_window_days", 30),)]  # one grain, the new
