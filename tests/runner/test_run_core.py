from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from pinads.catalog import Dataset
from pinads.errors import ExtractError
from pinads.extract import RunProgress
from pinads.load import open_destination
from pinads.runner.run import run_source
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig
from pinads.sources.validate import parse_config

from .fake_pinterest import ACCOUNT, FakePinterest, fake_client, spend

TODAY = date(2026, 11, 28)


def _config(tmp_path: Path, **extra: object) -> tuple[SourceConfig, Dataset]:
    doc = {
        "name": "campaign_daily",
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "CAMPAIGN_NAME"],
        "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
        "date_range": {"start": "2026-11-01", "end": "2026-11-10"},
        "metadata": ["extracted_at", "source_name", "run_id", "account_currency"],
        "destination": f"duckdb:///{tmp_path}/out.duckdb",
        **extra,
    }
    return parse_config(doc, today=TODAY)


def test_run_writes_exact_rows_and_rerun_changes_nothing(tmp_path: Path) -> None:
    config, dataset = _config(tmp_path)
    fake = FakePinterest(campaigns=3)
    dest = open_destination(config.destination, settings=load_settings())
    with fake_client(fake) as client:
        first = run_source(config, dataset, client=client, destination=dest, today=TODAY)
        table = dest.read_table("campaign_daily").sort_by(
            [("date", "ascending"), ("campaign_id", "ascending")]
        )
        second = run_source(config, dataset, client=client, destination=dest, today=TODAY)
        again = dest.read_table("campaign_daily").sort_by(
            [("date", "ascending"), ("campaign_id", "ascending")]
        )
    assert first.rows_written == 30 and table.num_rows == 30
    # accounts (1) + campaigns list (1) + one analytics call (3 ids, 10 days)
    assert first.api_calls == first.planned_calls == 3
    assert first.skipped_accounts == ("549755813902",)
    rows = table.to_pylist()
    assert rows[0]["spend_in_micro_dollar"] == spend(rows[0]["campaign_id"], rows[0]["date"])
    assert rows[0]["campaign_name"] == f"Campaign {rows[0]['campaign_id']}"
    assert rows[0]["_pinads_account_currency"] == "EUR"
    assert rows[0]["ad_account_id"] == ACCOUNT
    assert str(table.schema.field("spend_in_micro_dollar").type) == "int64"
    assert second.rows_written == 30
    drop = ["_pinads_extracted_at", "_pinads_run_id"]
    assert again.drop_columns(drop).equals(table.drop_columns(drop))
    dest.close()


def test_empty_result_fails_unless_allowed(tmp_path: Path) -> None:
    config, dataset = _config(tmp_path)
    dest = open_destination(config.destination, settings=load_settings())
    with (
        fake_client(FakePinterest(empty=True)) as client,
        pytest.raises(
            ExtractError, match=r"^No data retrieved: source 'campaign_daily' got no rows"
        ),
    ):
        run_source(config, dataset, client=client, destination=dest, today=TODAY)
    allowed, dataset = _config(tmp_path, allow_empty=True)
    with fake_client(FakePinterest(empty=True)) as client:
        result = run_source(allowed, dataset, client=client, destination=dest, today=TODAY)
    assert result.rows_written == 0
    dest.close()


def test_ids_batched_250_per_call(tmp_path: Path) -> None:
    config, dataset = _config(tmp_path)
    fake = FakePinterest(campaigns=600)
    dest = open_destination(config.destination, settings=load_settings())
    with fake_client(fake) as client:
        result = run_source(config, dataset, client=client, destination=dest, today=TODAY)
    # accounts 1 + campaign list 3 pages (600/250) + 3 id batches
    assert fake.calls.count("/ad_accounts/549755813901/campaigns/analytics") == 3
    assert result.rows_written == 600 * 10
    assert dest.read_table("campaign_daily").num_rows == 6000
    dest.close()
    assert timedelta(days=1)


def test_entity_datasets_ad_accounts_and_campaigns(tmp_path: Path) -> None:
    settings = load_settings()
    accounts, dataset = parse_config(
        {
            "name": "accounts",
            "dataset": "ad_accounts",
            "authorizer": "demo",
            "destination": f"duckdb:///{tmp_path}/e.duckdb",
        },
        today=TODAY,
    )
    campaigns, campaign_ds = parse_config(
        {
            "name": "campaigns",
            "dataset": "campaigns",
            "authorizer": "demo",
            "destination": f"duckdb:///{tmp_path}/e.duckdb",
        },
        today=TODAY,
    )
    dest = open_destination(accounts.destination, settings=settings)
    fake = FakePinterest(campaigns=4)
    with fake_client(fake) as client:
        first = run_source(accounts, dataset, client=client, destination=dest, today=TODAY)
        second = run_source(campaigns, campaign_ds, client=client, destination=dest, today=TODAY)
    assert first.rows_written == 2 and first.api_calls == 1
    assert sorted(dest.read_table("accounts").column("id").to_pylist()) == [ACCOUNT, "549755813902"]
    assert second.rows_written == 8  # 4 campaigns in each of the two accounts
    assert second.api_calls == 3
    dest.close()


@pytest.mark.parametrize(
    ("mode", "rows_after_two_runs"), [("append", 60), ("replace", 30), ("insert_ignore", 30)]
)
def test_write_modes(tmp_path: Path, mode: str, rows_after_two_runs: int) -> None:
    config, dataset = _config(tmp_path, write_mode=mode)
    dest = open_destination(config.destination, settings=load_settings())
    with fake_client(FakePinterest(campaigns=3)) as client:
        run_source(config, dataset, client=client, destination=dest, today=TODAY)
        run_source(config, dataset, client=client, destination=dest, today=TODAY)
    table = dest.read_table("campaign_daily")
    dest.close()
    assert table.num_rows == rows_after_two_runs
    assert len(set(table.column("_pinads_run_id").to_pylist())) == (2 if mode == "append" else 1)


def test_progress_moves_with_every_step_written_not_only_at_commits(tmp_path: Path) -> None:
    # 600 campaigns: three calls of <= 250 ids, all small enough to share one DuckDB transaction
    config, dataset = _config(tmp_path)
    fake = FakePinterest(campaigns=600)
    dest = open_destination(config.destination, settings=load_settings())
    seen: list[tuple[int, int, int, int]] = []

    def progress(state: RunProgress) -> None:
        seen.append((state.steps_done, state.steps_staged, state.rows, state.rows_staged))

    with fake_client(fake) as client:
        result = run_source(
            config, dataset, client=client, destination=dest, today=TODAY, progress=progress
        )
    dest.close()
    assert result.steps == 3 and result.rows_written == 6_000
    # each step shows as soon as it is written; the one commit then moves all three to done
    assert seen[:3] == [(0, 1, 0, 2_500), (0, 2, 0, 5_000), (0, 3, 0, 6_000)]
    assert seen[-1] == (3, 0, 6_000, 0)
    shown = [done + staged for done, staged, _, _ in seen]
    assert shown == sorted(shown)
