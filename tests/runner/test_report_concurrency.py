"""Async reports of a backfill wait side by side, more of them than the extraction's threads."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import httpx
from starlette.applications import Starlette

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens
from pinads.extract.engine import DEFAULT_WORKERS, REPORT_WORKERS
from pinads.extract.plan import Strategy
from pinads.load import open_destination
from pinads.runner.run import run_source
from pinads.settings import load_settings
from pinads.sources.validate import parse_config
from pinads.values import DateRange, RunKind

from .emu import FAST_POLLING, make_client, source_doc

THISTLE_OUTDOOR = "549755813003"  # GBP; the demo user is its admin


class _Gate:
    """A sleep for report polling that holds each poller until `want` of them wait at once (or
    a generous timeout passes), then lets every later poll through: `most` is how many
    reports were waiting side by side."""

    def __init__(self, want: int) -> None:
        self.want = want
        self.waiting = 0
        self.most = 0
        self.open = False
        self._cond = threading.Condition()

    def sleep(self, _seconds: float) -> None:
        with self._cond:
            if self.open:
                return
            self.waiting += 1
            self.most = max(self.most, self.waiting)
            self.open = self.waiting >= self.want
            self._cond.notify_all()
            self._cond.wait_for(lambda: self.open, timeout=10)
            self.open = True  # a timeout (too few in flight) must not stall the rest
            self.waiting -= 1


def test_a_backfill_waits_for_more_reports_at_once_than_extraction_threads(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    today = emulator_app.state.emulator.today()
    # two accounts x three 186-day reports (the longest Pinterest allows)
    period = DateRange(start=today - timedelta(days=3 * 186), end=today - timedelta(days=1))
    doc = source_doc(tmp_path, accounts=[EUR_ADVERTISER_ID, THISTLE_OUTDOOR])
    config, dataset = parse_config(doc, today=today)
    destination = open_destination(config.destination, settings=load_settings())
    gate = _Gate(want=6)
    with make_client(emulator_transport, emulator_tokens, sleep=gate.sleep) as client:
        result = run_source(
            config,
            dataset,
            client=client,
            destination=destination,
            today=today,
            kind=RunKind.BACKFILL,
            period=period,
            polling=FAST_POLLING,
            strategy=Strategy.REPORTS,
        )
    destination.close()
    assert result.steps == 6 and result.rows_written > 0
    assert DEFAULT_WORKERS < 6 <= REPORT_WORKERS
    assert gate.most == 6  # all six reports waited at once, not in waves of DEFAULT_WORKERS
