"""`pinads backfill`, `pinads run`, `pinads runs` and `pinads sources show` as a user runs them,
against the emulator on a loopback port (the CLI in this process, the control DB and DuckDB
files real): allow-empty on and off over days with truly no delivery, backfill summaries and
resume counts, and what run history keeps of failed runs."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import httpx
import pytest
import yaml
from typer.testing import CliRunner

from pinads.cli import app
from pinads.emulator import (
    EUR_ADVERTISER_ID,
    EmulatorServer,
)
from pinads.emulator.analytics import attribution_from
from pinads.emulator.reporting import ReportQuery, build_rows
from pinads.runner import service

FJORD = "549755813007"  # Fjord Design Studio: five campaigns, weeks without any delivery
METRICS = ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"]


def pinads(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return getattr(result.exception, "exit_code", 1), f"{result.output}{result.exception}"
    return result.exit_code, result.output


@pytest.fixture
def server(emulator_server: EmulatorServer, authorizer: str) -> EmulatorServer:
    """The emulator, with the `demo` authorizer of tests/conftest.py added for it."""
    return emulator_server


def _source_file(tmp_path: Path, name: str, account: str, **extra: object) -> Path:
    path = tmp_path / f"{name}.yaml"
    document = {
        "name": name,
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "accounts": [account],
        "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
        "metrics": METRICS,
        "date_range": "last_7_days",
        "destination": f"duckdb:///{tmp_path}/{name}.duckdb",
        **extra,
    }
    path.write_text(yaml.safe_dump(document))
    return path


def _quiet_days(server: EmulatorServer, account: str) -> tuple[date, date]:
    """The longest run of days, within async reach and past the sync reach, on which the
    account delivered nothing, read from the emulator's own row builder."""
    state = server.state
    today = state.today_ordinal()
    first, last = today - 900, today - 100
    query = ReportQuery(
        account_id=account,
        level="CAMPAIGN",
        start_day=first,
        end_day=last,
        granularity="DAY",
        columns=tuple(METRICS),
        attribution=attribution_from({}, today=today),
    )
    rows = build_rows(state.world, query).table.to_pylist()
    active = {date.fromisoformat(row["DATE"]) for row in rows}
    best: tuple[int, int] = (0, -1)
    start = None
    for day in range(first, last + 2):
        quiet = day <= last and date.fromordinal(day) not in active
        if quiet and start is None:
            start = day
        elif not quiet and start is not None:
            if day - start > best[1] - best[0] + 1:
                best = (start, day - 1)
            start = None
    assert best[1] - best[0] >= 20, "seed 7 gives Fjord weeks without delivery"
    return date.fromordinal(best[0]), date.fromordinal(best[1])


def test_no_data_fails_unless_the_source_allows_empty_data(
    server: EmulatorServer, tmp_path: Path
) -> None:
    start, end = _quiet_days(server, FJORD)
    source = _source_file(tmp_path, "fjord", FJORD)
    assert pinads("sources", "create", "--file", str(source))[0] == 0

    code, output = pinads("backfill", "fjord", "--from", str(start), "--to", str(end))
    assert code == 5
    assert output.splitlines()[-1] == (
        f"No data retrieved: source 'fjord' got no rows for {start}..{end} from 1 ad account(s): "
        "the accounts had no delivery in these days - try a range when campaigns ran; check "
        "with `pinads preview fjord`, or set allow_empty: true if an empty result is expected"
    )
    # a manual run of the same days (async reports too: they are older than 90 days) as well
    code, output = pinads("run", "fjord", "--from", str(start), "--to", str(end))
    assert code == 5 and output.splitlines()[-1].startswith("No data retrieved: source 'fjord'")

    [manual, backfill] = service.list_runs("fjord")
    for run in (manual, backfill):
        assert run.status == "failed" and run.rows_written == 0
        assert run.api_calls >= 3  # the ad account list, the report's creation and its polls
        assert (run.error or "").startswith("No data retrieved: source 'fjord' got no rows")
    assert (backfill.kind, manual.kind) == ("backfill", "manual")

    allowed = _source_file(tmp_path, "fjord", FJORD, allow_empty=True)
    assert pinads("sources", "edit", "fjord", "--file", str(allowed))[0] == 0
    code, output = pinads("backfill", "fjord", "--from", str(start), "--to", str(end))
    assert code == 0, output
    assert f"of fjord {start}..{end}: 0 rows into fjord" in output
    latest = service.list_runs("fjord", limit=1)[0]
    assert (latest.kind, latest.status, latest.rows_written, latest.error) == (
        "backfill",
        "succeeded",
        0,
        None,
    )
    code, output = pinads("sources", "show", "fjord")
    assert f"last run: backfill run {latest.id} for {start}..{end} succeeded at " in output


def test_backfill_prints_its_batches_and_resumes_only_its_own(
    server: EmulatorServer, tmp_path: Path
) -> None:
    today = server.state.today()
    source = _source_file(tmp_path, "shop", EUR_ADVERTISER_ID)
    assert pinads("sources", "create", "--file", str(source))[0] == 0
    recent = (today - timedelta(days=60), today - timedelta(days=1))
    code, output = pinads("backfill", "shop", "--from", str(recent[0]), "--to", str(recent[1]))
    assert code == 0, output
    # 60 recent days: one synchronous call (the campaign ids list first) instead of a report
    assert (
        f"backfill {recent[0]}..{recent[1]}: 1 batch, 1 synchronous call for "
        f"{recent[0]}..{recent[1]} (cheaper than a report); 3 API calls"
    ) in output
    assert "1 batch (0 already done), 3 API calls (planned 3)" in output

    # 200 days: a report for the first 186, the last 14 synchronously; the batch above is
    # another range's, so nothing counts as done
    older = (today - timedelta(days=200), today - timedelta(days=1))
    code, output = pinads("backfill", "shop", "--from", str(older[0]), "--to", str(older[1]))
    assert code == 0, output
    tail = older[0] + timedelta(days=186)
    assert (
        f"backfill {older[0]}..{older[1]}: 2 batches, 1 async report and 1 synchronous call "
        f"for {tail}..{older[1]} (cheaper than a report); at least 5 API calls"
    ) in output
    assert "2 batches (0 already done)" in output
    code, output = pinads("backfill", "shop", "--from", str(older[0]), "--to", str(older[1]))
    assert code == 0, output
    # nothing left to read: the ad account and campaign lists only (the plan needs the ids)
    assert ": 0 rows into shop" in output and "2 batches (2 already done), 2 API calls" in output

    with duckdb.connect(str(tmp_path / "shop.duckdb"), read_only=True) as conn:
        days, keys, rows = conn.execute(
            "SELECT count(DISTINCT date), count(DISTINCT (date, campaign_id)), count(*) FROM shop"
        ).fetchone() or (0, 0, 0)
    assert rows == keys > 0 and days == 200

    code, output = pinads("runs", "shop", "--limit", "2")
    assert code == 0
    lines = [line for line in output.splitlines() if " backfill " in line]
    assert len(lines) == 2 and all(" succeeded " in line for line in lines)
    assert f"{older[0]}..{older[1]}" in lines[0]


def test_a_run_that_fails_keeps_its_calls_and_429s_in_the_history(
    server: EmulatorServer, tmp_path: Path
) -> None:
    source = _source_file(tmp_path, "shop", EUR_ADVERTISER_ID)
    assert pinads("sources", "create", "--file", str(source))[0] == 0
    faults = {"rate_limit_probability": 1.0, "operations": ["campaigns/analytics"]}
    httpx.post(f"{server.base_url}/_emulator/faults", json=faults).raise_for_status()
    code, output = pinads("run", "shop")
    assert code == 4, output
    assert "gave up after 6 attempt(s)" in output
    [run] = service.list_runs("shop")
    # the ad account list, the campaign list, six tries of the analytics call: all 429
    assert (run.kind, run.status, run.api_calls, run.rate_limited) == ("manual", "failed", 8, 6)
    code, output = pinads("runs", "shop")
    row = next(line for line in output.splitlines() if run.id in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[2:8] == ["manual", cells[3], "failed", "0", "8", "6"]
    assert cells[9].startswith("rate limit reached")  # folded over several lines
