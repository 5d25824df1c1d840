"""Two runs of one source at the same time: exactly one proceeds, the other is refused."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from pinads.api import PinterestClient
from pinads.emulator.tokens import IssuedTokens
from pinads.errors import StateError
from pinads.extract.plan import Plan
from pinads.runner import service
from pinads.runner.store import SourceStore
from pinads.settings import load_settings
from pinads.sources.validate import parse_config

from .emu import make_client, source_doc


def test_second_concurrent_run_is_refused(
    emulator_app: Starlette,
    emulator_transport: httpx.BaseTransport,
    emulator_tokens: IssuedTokens,
    tmp_path: Path,
) -> None:
    today = emulator_app.state.emulator.today()
    config, _ = parse_config(source_doc(tmp_path, date_range="last_7_days"), today=today)
    store = SourceStore(load_settings())
    store.save(config)
    store.close()

    def opener(_label: str) -> PinterestClient:
        return make_client(emulator_transport, emulator_tokens)

    holding = threading.Event()
    refused = threading.Event()
    errors: list[BaseException] = []

    def hold(_plan: Plan) -> None:  # called while the first run holds the lock
        holding.set()
        refused.wait(timeout=30)

    def first() -> None:
        try:
            service.run("shop", opener=opener, today=today, on_plan=hold)
        except Exception as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    assert holding.wait(timeout=30)
    with pytest.raises(StateError, match="source 'shop' is already running"):
        service.run("shop", opener=opener, today=today)
    refused.set()
    thread.join(timeout=60)
    assert not errors
    runs = service.list_runs("shop")
    assert [run.status for run in runs] == ["succeeded"]
