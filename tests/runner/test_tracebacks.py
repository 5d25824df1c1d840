"""A load failure while fetch threads are still calling Pinterest: the CLI prints the cause as
one line and exits non-zero, with no traceback after it (a worker's secondary error, met once
the run is being torn down, must not replace or follow the first cause)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml

from pinads.emulator import EUR_ADVERTISER_ID, LARGE_ADVERTISER_ID, EmulatorServer

PINADS = Path(sys.executable).parent / "pinads"
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
GBP_ADVERTISER_ID = "549755813003"  # the demo user is an admin there


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"pinads_tb_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _pinads(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PINADS), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "250"},
    )


def test_a_load_failure_during_fetches_is_one_line_on_stderr(
    authorizer: str, emulator_server: EmulatorServer, tmp_path: Path, schema: str
) -> None:
    source = tmp_path / "ads.yaml"
    source.write_text(
        yaml.safe_dump(
            {
                "name": "ads",
                "dataset": "ad_analytics",
                "authorizer": authorizer,
                "accounts": [LARGE_ADVERTISER_ID, EUR_ADVERTISER_ID, GBP_ADVERTISER_ID],
                "attributes": ["DATE", "AD_ACCOUNT_ID", "AD_ID"],
                "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
                "date_range": "last_7_days",
                "destination": f"{PG_DSN}?schema={schema}",
            }
        )
    )
    assert _pinads("sources", "create", "--file", str(source)).returncode == 0
    first = _pinads("run", "ads")
    assert first.returncode == 0, first.stderr
    # Every row the next run writes breaks a constraint the user added to the table, and each
    # analytics call takes a while: the first step fails while the others are being fetched.
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(
            f'ALTER TABLE "{schema}".ads ADD CONSTRAINT no_spend '
            "CHECK (spend_in_micro_dollar < 0) NOT VALID"
        )
    faults = {"latency_ms": 150, "operations": ["ads/analytics"]}
    httpx.post(f"{emulator_server.base_url}/_emulator/faults", json=faults).raise_for_status()

    failed = _pinads("run", "ads")
    assert failed.returncode != 0
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    assert lines[0].startswith("error: ") and "no_spend" in lines[0], failed.stderr
