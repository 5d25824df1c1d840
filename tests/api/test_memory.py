"""Response bodies do not outlive their call, even while garbage collection is off.

httpx responses sit in reference cycles; a body stored on one lives until a full collection.
The client streams bodies into its own buffer, so only small objects wait for the collector.
Over loopback: an in-process transport builds responses from bytes, which httpx stores. The
emulator runs in its own process, so its allocations (a uvicorn thread here would also keep its
garbage while the collector is off) never count as the client's.
"""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pinads.api import PinterestClient
from pinads.emulator import DEFAULT_USER_ID, LARGE_ADVERTISER_ID
from pinads.emulator.tokens import IssuedTokens

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


@pytest.fixture
def emulator_process() -> Iterator[str]:
    """`pinads emulator` in a child process on a free port; its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pinads", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            found = re.search(r"emulator on (http://\S+)", line)
            if found:
                yield found.group(1)
                break
        else:
            raise AssertionError("the emulator process printed no URL")
    finally:
        proc.terminate()
        proc.wait(30)


def _mint(base_url: str) -> IssuedTokens:
    answer = httpx.post(f"{base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    now = datetime.now(UTC)
    return IssuedTokens(
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        access_expires_at=now + timedelta(seconds=body["expires_in"]),
        refresh_expires_at=now + timedelta(seconds=body["refresh_token_expires_in"]),
        scopes=frozenset(body["scope"].split(",")),
    )


@pytest.mark.usefixtures("collector_off")
def test_bodies_are_freed_without_gc(emulator_process: str) -> None:
    issued = _mint(emulator_process)
    api_url = f"{emulator_process}/v5"
    params = {"page_size": 250}
    with httpx.Client(
        base_url=api_url, headers={"Authorization": f"Bearer {issued.access_token}"}
    ) as raw:
        body_size = len(raw.get(PATH, params=params).content)
        raw_growth = _growth(lambda: raw.get(PATH, params=params).json())
    with PinterestClient(demo_app(api_url), token_set(issued), RecordingSink()) as client:
        ours_growth = _growth(lambda: client.get_json(PATH, params))
    assert body_size > 50_000
    # The control: plain httpx keeps every body until a collection.
    assert raw_growth > PAGES * body_size * 0.8
    # Ours keeps only small cyclic objects (~8 kB a call) until a collection: per call, far
    # less than one body (a kept body would be at least one body per call).
    assert ours_growth / PAGES < body_size / 8
