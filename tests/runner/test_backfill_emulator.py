"""Backfill through async reports: report rows equal the sync path's rows on the same days.

A backfill this recent would read its days synchronously (cheaper): the report path is forced."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from starlette.applications import Starlette

from pinads.emulator.tokens import IssuedTokens
from pinads.extract.plan import Strategy
from pinads.load import open_destination
from pinads.runner.run import run_source
from pinads.settings import load_settings
from pinads.sources.validate import parse_config
from pinads.values import RunKind

from .emu import FAST_POLLING, make_client, source_doc

DROP = ["_pinads_extracted_at", "_pinads_run_id"]


def test_backfill_rows_equal_sync_rows_on_overlapping_days(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    today = emulator_app.state.emulator.today()
    start, end = today - timedelta(days=40), today - timedelta(days=1)
    span = {"start": start, "end": end}
    sync_cfg, dataset = parse_config(
        source_doc(tmp_path, name="by_sync", date_range=span), today=today
    )
    back_cfg, _ = parse_config(source_doc(tmp_path, name="by_report", date_range=span), today=today)
    destination = open_destination(sync_cfg.destination, settings=load_settings())
    with make_client(emulator_transport, emulator_tokens) as client:
        run_source(sync_cfg, dataset, client=client, destination=destination, today=today)
        result = run_source(
            back_cfg,
            dataset,
            client=client,
            destination=destination,
            today=today,
            kind=RunKind.BACKFILL,
            polling=FAST_POLLING,
            strategy=Strategy.REPORTS,
        )
        again = run_source(
            back_cfg,
            dataset,
            client=client,
            destination=destination,
            today=today,
            kind=RunKind.BACKFILL,
            polling=FAST_POLLING,
            strategy=Strategy.REPORTS,
        )
    by_sync = destination.read_table("by_sync").drop_columns(DROP)
    by_report = destination.read_table("by_report").drop_columns([*DROP, "_pinads_source"])
    destination.close()
    keys = [("date", "ascending"), ("campaign_id", "ascending")]
    assert result.steps == 1 and result.rows_written == by_sync.num_rows > 0
    assert again.steps_skipped == 1 and again.rows_written == 0  # resumable: nothing left
    assert by_report.sort_by(keys).equals(by_sync.drop_columns(["_pinads_source"]).sort_by(keys))
