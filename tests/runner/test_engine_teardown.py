"""Tearing down a run while its fetch threads are mid-request: the consumer's own error is the
only one anybody sees (the generator's close never raises what a worker met afterwards)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import httpx
from starlette.applications import Starlette

from pinads.emulator import LARGE_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens
from pinads.extract import build_job, discover, make_plan, stream_steps
from pinads.runner.request import new_request
from pinads.sources.validate import parse_config
from pinads.values import DateRange, RunKind

from .emu import make_client, source_doc


class HeldAnalytics(httpx.BaseTransport):
    """The emulator, each analytics request held until the test lets one through; once
    `closed` is set, a request fails as httpx fails it on a closed client."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.entered = threading.Semaphore(0)
        self.permits = threading.Semaphore(0)
        self.closed = threading.Event()
        self.refused = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/analytics"):
            self.entered.release()
            assert self.permits.acquire(timeout=30)
            if self.closed.is_set():
                self.refused.set()
                raise RuntimeError("Cannot send a request, as the client has been closed.")
        return self.inner.handle_request(request)


def test_closing_the_steps_raises_no_error_a_worker_met_after_the_consumer_failed(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    today = emulator_app.state.emulator.today()
    config, dataset = parse_config(
        source_doc(
            tmp_path,
            dataset="ad_analytics",
            accounts=[LARGE_ADVERTISER_ID],
            date_range="last_7_days",
        ),
        today=today,
    )
    held = HeldAnalytics(emulator_transport)
    client = make_client(held, emulator_tokens)
    period = DateRange(start=today - timedelta(days=7), end=today - timedelta(days=1))
    request = new_request(
        config, dataset, kind=RunKind.MANUAL, run_id="teardown", today=today, period=period
    )
    found = discover(request, client)
    plan = make_plan(request, found)
    assert len(plan.steps) > 1  # the account's ads come in several batches
    outputs = stream_steps(build_job(request, found, client), plan.steps, workers=1)
    held.permits.release()
    first = next(outputs)  # the step whose write fails: the consumer reads no further
    first.close()
    assert held.entered.acquire(timeout=30)  # the first request
    assert held.entered.acquire(timeout=30)  # the worker is inside its next request ...
    held.closed.set()  # ... when the caller closes the client as the write error goes up
    held.permits.release()
    assert held.refused.wait(timeout=30)  # the worker met the closed client
    outputs.close()  # raises nothing: that error is a consequence, not the run's cause
    client.close()
