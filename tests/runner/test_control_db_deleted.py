"""The control DB (SQLite under PINADS_HOME) deleted while a run is going: the run stops at its
next step with one clear error instead of reporting success into a deleted file."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import httpx
import pytest
from starlette.applications import Starlette

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens
from pinads.errors import StateError
from pinads.extract import RunProgress
from pinads.runner import SourceStore, service
from pinads.settings import load_settings
from pinads.sources.validate import parse_config

from .emu import make_client, source_doc

GBP_ADVERTISER_ID = "549755813003"  # the demo user is an admin there


class SecondAnalyticsHeld(httpx.BaseTransport):
    """The in-process emulator; the second analytics answer waits until `gate` opens."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.calls = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/analytics"):
            with self.lock:
                self.calls += 1
                second = self.calls == 2
            if second:
                assert self.gate.wait(timeout=60)
        return self.inner.handle_request(request)


def test_a_run_whose_control_db_is_deleted_fails_and_writes_no_more(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
    pinads_home: Path,
) -> None:
    today = emulator_app.state.emulator.today()
    document = source_doc(
        tmp_path, accounts=[EUR_ADVERTISER_ID, GBP_ADVERTISER_ID], date_range="last_30_days"
    )
    config, _ = parse_config(document, today=today)
    store = SourceStore(load_settings())
    store.save(config)
    store.close()
    control_db = pinads_home / "pinads.db"
    assert control_db.exists()
    rows_when_deleted: list[int] = []
    held = SecondAnalyticsHeld(emulator_transport)

    def progress(state: RunProgress) -> None:
        if state.steps_done == 1 and not rows_when_deleted:  # one step committed ...
            rows_when_deleted.append(state.rows)
            control_db.unlink()  # ... and the control DB goes away
            held.gate.set()  # before the second step comes back from Pinterest

    with pytest.raises(StateError) as failed:
        service.run(
            "shop",
            opener=lambda _label: make_client(held, emulator_tokens),
            today=today,
            progress=progress,
        )
    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith(f"the control DB {control_db} was deleted or replaced while run ")
    assert rows_when_deleted and rows_when_deleted[0] > 0
    with duckdb.connect(str(tmp_path / "shop.duckdb"), read_only=True) as conn:
        kept = conn.execute("SELECT count(*) FROM shop").fetchone()
    assert kept == (rows_when_deleted[0],)  # the second step was not written
