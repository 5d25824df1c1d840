"""`tap-pinads` piped into real Singer targets from the package index: what they load equals
a direct `pinads run` of the same source into DuckDB."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from pinads.emulator import EUR_ADVERTISER_ID

from .tapkit import SECOND_ACCOUNT, TAP, comparable, direct_run, source_yaml
from .venvs import duckdb_rows, tool


def _pipe(tap_args: list[str], target: Path, config: Path, cwd: Path) -> list[dict[str, Any]]:
    """tap | target; the target's stdout (the STATE lines it confirmed) parsed."""
    tap = subprocess.Popen([str(TAP), *tap_args], stdout=subprocess.PIPE)
    assert tap.stdout is not None
    loaded = subprocess.run(
        [str(target), "--config", str(config)],
        stdin=tap.stdout,
        capture_output=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )
    tap.stdout.close()
    assert tap.wait(timeout=60) == 0
    assert loaded.returncode == 0, loaded.stderr.decode()
    return [json.loads(line) for line in loaded.stdout.decode().splitlines() if line.strip()]


def test_target_jsonl_writes_the_rows_of_a_direct_run(authorizer: str, tmp_path: Path) -> None:
    target = tool("target-jsonl", "target-jsonl")
    path = source_yaml(tmp_path, accounts=(EUR_ADVERTISER_ID, SECOND_ACCOUNT))
    out = tmp_path / "jsonl"
    out.mkdir()
    config = tmp_path / "target.json"
    config.write_text(json.dumps({"destination_path": str(out), "do_timestamp_file": False}))
    states = _pipe(["--config", str(path)], target, config, tmp_path)
    loaded = [json.loads(line) for line in (out / "shop.jsonl").read_text().splitlines()]
    assert loaded and comparable(loaded) == comparable(direct_run(path))
    assert states[-1]["bookmarks"]["shop"]["replication_key"] == "date"


def test_target_duckdb_upserts_the_rows_of_a_direct_run(authorizer: str, tmp_path: Path) -> None:
    """Two syncs, the second from the first's STATE (re-reading the attribution window): the
    target's upsert on the key properties leaves exactly the direct run's rows."""
    target = tool("target-duckdb", "target-duckdb")
    path = source_yaml(tmp_path)
    database = tmp_path / "singer.duckdb"
    config = tmp_path / "target.json"
    config.write_text(json.dumps({"path": str(database), "default_target_schema": "pinterest"}))
    first = _pipe(["--config", str(path)], target, config, tmp_path)
    state = tmp_path / "state.json"
    state.write_text(json.dumps(first[-1]))
    _pipe(["--config", str(path), "--state", str(state)], target, config, tmp_path)
    loaded = duckdb_rows("target-duckdb", database, "pinterest.shop")
    expected = direct_run(path)
    assert len(loaded) == len(expected)
    # target-duckdb stores format=date as text and instants as naive timestamps: compare by
    # value (days as ISO text; exact integers stay exact, micro-currency included).
    assert comparable(loaded) == comparable(expected)
    spend = {(r["campaign_id"], r["date"]): r["spend_in_micro_dollar"] for r in loaded}
    assert all(isinstance(value, int) for value in spend.values())
