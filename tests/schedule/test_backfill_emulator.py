"""A recent backfill reads its days synchronously when that is cheaper, and the rows are the
ones its async reports would have written: same table, columns, types and values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from starlette.applications import Starlette

from pinads.api import PinterestClient, ReportPolling
from pinads.emulator import EUR_ADVERTISER_ID
from pinads.extract.plan import Strategy
from pinads.load import open_destination
from pinads.runner.run import run_source
from pinads.settings import load_settings
from pinads.sources.validate import parse_config
from pinads.values import RunKind

Opener = Callable[[str], PinterestClient]
FAST_POLLING = ReportPolling(first_delay_seconds=0.001, max_delay_seconds=0.01)
METADATA = ["_pinads_extracted_at", "_pinads_run_id", "_pinads_source"]
METRICS = {  # HOUR rows carry no conversions
    "DAY": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "TOTAL_CONVERSIONS"],
    "HOUR": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CLICKTHROUGH_1"],
}
CASES = {
    "ad_account_analytics": ["DATE", "AD_ACCOUNT_ID"],
    "campaign_analytics": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "CAMPAIGN_NAME"],
    "ad_group_analytics": ["DATE", "AD_ACCOUNT_ID", "AD_GROUP_ID"],
    "campaign_by_age_bucket": [
        "DATE",
        "AD_ACCOUNT_ID",
        "CAMPAIGN_ID",
        "TARGETING_TYPE",
        "TARGETING_VALUE",
    ],
}


def _sorted(table: pa.Table) -> pa.Table:
    table = table.drop_columns([c for c in METADATA if c in table.column_names])
    return table.sort_by([(name, "ascending") for name in table.column_names])


@pytest.mark.parametrize(
    ("dataset_name", "granularity"), [*((n, "DAY") for n in CASES), ("campaign_analytics", "HOUR")]
)
def test_cheaper_sync_backfill_writes_the_rows_reports_write(
    dataset_name: str,
    granularity: str,
    emulator_app: Starlette,
    emulator_opener: Opener,
    tmp_path: Path,
) -> None:
    today = emulator_app.state.emulator.today()
    days = 6 if granularity == "HOUR" else 45
    span = {"start": today - timedelta(days=days), "end": today - timedelta(days=1)}
    results = {}
    tables = {}
    for name, strategy in (("by_sync", None), ("by_report", Strategy.REPORTS)):
        config, dataset = parse_config(
            {
                "name": name,
                "dataset": dataset_name,
                "authorizer": "demo",
                "accounts": [EUR_ADVERTISER_ID],
                "attributes": CASES[dataset_name],
                "metrics": METRICS[granularity],
                "granularity": granularity,
                "date_range": span,
                "destination": f"duckdb:///{tmp_path}/both.duckdb",
            },
            today=today,
        )
        destination = open_destination(config.destination, settings=load_settings())
        try:
            with emulator_opener("demo") as client:
                results[name] = run_source(
                    config,
                    dataset,
                    client=client,
                    destination=destination,
                    today=today,
                    kind=RunKind.BACKFILL,
                    polling=FAST_POLLING,
                    strategy=strategy,
                )
            tables[name] = destination.read_table(name)
        finally:
            destination.close()
    by_sync, by_report = results["by_sync"], results["by_report"]
    # reports: create + polls (the emulator finishes at the third); sync: one call per batch
    assert by_sync.api_calls < by_report.api_calls
    assert not by_sync.planned_is_minimum and by_report.planned_is_minimum
    assert by_sync.rows_written == by_report.rows_written > 0
    assert tables["by_sync"].schema == tables["by_report"].schema
    assert _sorted(tables["by_sync"]).equals(_sorted(tables["by_report"]))
