"""Response bodies do not outlive their call, even while garbage collection is off.

httpx responses sit in reference cycles; a body stored on one lives until a full collection.
The client streams bodies into its own buffer, so only small objects wait for the collector.
Over loopback: an in-process transport builds responses from bytes, which httpx stores.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterator

import httpx
import pytest

from pinads.api import PinterestClient
from pinads.emulator import DEFAULT_USER_ID, DEMO_CLIENT_ID, LARGE_ADVERTISER_ID, EmulatorServer
from pinads.emulator.tokens import TokenInfo

from .conftest import RecordingSink, demo_app, token_set

PATH = f"/ad_accounts/{LARGE_ADVERTISER_ID}/campaigns"
PAGES = 30


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def _growth(fn: Callable[[], object]) -> int:
    fn()  # warm-up: connection pools, caches
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(PAGES):
            fn()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


@pytest.mark.usefixtures("collector_off")
def test_bodies_are_freed_without_gc(emulator_server: EmulatorServer) -> None:
    state = emulator_server.state
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read"}))
    issued = state.tokens.mint(info, now=state.now())
    params = {"page_size": 250}
    with httpx.Client(
        base_url=emulator_server.api_url,
        headers={"Authorization": f"Bearer {issued.access_token}"},
    ) as raw:
        body_size = len(raw.get(PATH, params=params).content)
        raw_growth = _growth(lambda: raw.get(PATH, params=params).json())
    with PinterestClient(
        demo_app(emulator_server.api_url), token_set(issued), RecordingSink()
    ) as client:
        ours_growth = _growth(lambda: client.get_json(PATH, params))
    assert body_size > 50_000
    # The control: plain httpx keeps every body until a collection.
    assert raw_growth > PAGES * body_size * 0.8
    assert ours_growth < body_size * 2
