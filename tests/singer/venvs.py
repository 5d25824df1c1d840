"""The third-party tools these tests drive, each in its own virtualenv under .venvs/
(scripts/setup-integrations creates them; CI runs it). Missing outside CI: the test is
skipped, saying how to get it; missing in CI: the test fails."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tool(venv: str, command: str) -> Path:
    path = ROOT / ".venvs" / venv / "bin" / command
    if path.exists():
        return path
    message = f"{path.relative_to(ROOT)} is missing: run scripts/setup-integrations"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def duckdb_rows(venv: str, database: Path, table: str) -> list[dict[str, Any]]:
    """A table of a DuckDB file a tool wrote, read by that tool's own duckdb (its version may
    be newer than pinads'), as JSON rows."""
    script = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "cur = con.execute('SELECT * FROM ' + sys.argv[2])\n"
        "names = [d[0] for d in cur.description]\n"
        "rows = [dict(zip(names, row)) for row in cur.fetchall()]\n"
        "print(json.dumps(rows, default=str))\n"
    )
    python = tool(venv, "python")
    result = subprocess.run(
        [str(python), "-c", script, str(database), table],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows
