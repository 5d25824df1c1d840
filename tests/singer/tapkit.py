"""Helpers for the Singer tests: a source file, the tap as a real process, a direct
`pinads run` of the same source, and rows made comparable across DuckDB, JSON and targets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.runner import service

BIN = Path(sys.executable).parent
TAP = BIN / "tap-pinads"
# Differ between any two runs by design: left out when a run's rows are compared with another's.
PER_RUN_COLUMNS = ("_pinads_extracted_at", "_pinads_run_id")
SECOND_ACCOUNT = "549755813003"  # the default user is an admin there too


def source_yaml(
    tmp_path: Path,
    *,
    name: str = "shop",
    accounts: Sequence[str] = (EUR_ADVERTISER_ID,),
    date_range: str = "last_7_days",
    extra: str = "",
) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"name: {name}\n"
        "dataset: campaign_analytics\n"
        "authorizer: demo\n"
        f"accounts: [{', '.join(accounts)}]\n"
        "attributes: [DATE, AD_ACCOUNT_ID, CAMPAIGN_ID, CAMPAIGN_NAME]\n"
        "metrics: [SPEND_IN_MICRO_DOLLAR, IMPRESSION_1, CLICKTHROUGH_1, TOTAL_CONVERSIONS]\n"
        f"date_range: {date_range}\n"
        "metadata: [extracted_at, source_name, run_id, account_currency]\n"
        f"destination: duckdb:///{tmp_path}/direct.duckdb\n" + extra
    )
    return path


def run_tap(
    *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(TAP), *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


def messages(stdout: bytes) -> list[dict[str, Any]]:
    """Every stdout line parsed: the tap may print nothing else."""
    return [json.loads(line) for line in stdout.decode().splitlines()]


def records(parsed: Iterable[Mapping[str, Any]], stream: str = "shop") -> list[dict[str, Any]]:
    return [m["record"] for m in parsed if m["type"] == "RECORD" and m["stream"] == stream]


def direct_run(source_file: Path, name: str = "shop") -> list[dict[str, Any]]:
    """`pinads run` of the same source into DuckDB: the rows the tap's must equal."""
    import yaml

    service.create_source(yaml.safe_load(source_file.read_text()))
    service.run(name)
    with duckdb.connect(str(source_file.parent / "direct.duckdb"), read_only=True) as con:
        cursor = con.execute(f'SELECT * FROM "{name}"')
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()[:10] if not isinstance(value, datetime) else value.isoformat()
    return value


def comparable(rows: Iterable[Mapping[str, Any]]) -> list[tuple[tuple[str, object], ...]]:
    """Rows as sorted tuples of (column, value): days as ISO strings, per-run columns out."""
    return sorted(
        tuple(sorted((k, _plain(v)) for k, v in row.items() if k not in PER_RUN_COLUMNS))
        for row in rows
    )
