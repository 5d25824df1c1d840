"""The CLI end to end over a loopback emulator: an authorizer, a source from a file, a dry run
whose call count the run then makes, the run, Test Data, and run history."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from pinads.cli import app
from pinads.emulator import (
    EUR_ADVERTISER_ID,
    JPY_ADVERTISER_ID,
)

runner = CliRunner()
PINADS = Path(sys.executable).parent / "pinads"


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        return int(getattr(error, "exit_code", 1)), f"{result.output}{error}"
    return result.exit_code, result.output


def _source_file(tmp_path: Path, accounts: str = f"[{EUR_ADVERTISER_ID}]") -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(
        "name: shop\n"
        "dataset: campaign_analytics\n"
        "authorizer: demo\n"
        f"accounts: {accounts}\n"
        "attributes: [DATE, AD_ACCOUNT_ID, CAMPAIGN_ID, CAMPAIGN_NAME]\n"
        "metrics: [SPEND_IN_MICRO_DOLLAR, IMPRESSION_1, CLICKTHROUGH_1, TOTAL_CONVERSIONS]\n"
        "date_range: last_7_days\n"
        "metadata: [extracted_at, source_name, run_id, account_currency]\n"
        f"destination: duckdb:///{tmp_path}/shop.duckdb\n"
    )
    return path


def test_create_dry_run_run_preview_history(authorizer: str, tmp_path: Path) -> None:
    code, output = _invoke("sources", "create", "--file", str(_source_file(tmp_path)))
    assert code == 0, output
    assert "saved source shop (campaign_analytics)" in output

    code, plan = _invoke("run", "shop", "--dry-run")
    assert code == 0, plan
    assert plan.startswith("plan for campaign_analytics ")  # the plan, then each step
    steps = [line for line in plan.splitlines() if " call(s)  " in line]
    assert steps and all(line.startswith("  sync:") for line in steps), plan
    planned = int(plan.split(" API calls")[0].rsplit(" ", 1)[-1])

    code, output = _invoke("run", "shop")
    assert code == 0, output
    assert f"API calls (planned {planned})" in output
    calls = int(output.split(" API calls (planned")[0].rsplit(" ", 1)[-1])
    assert calls == planned

    code, output = _invoke("preview", "shop")
    assert code == 0, output
    assert " rows for " in output and "campaign_name" in output

    code, output = _invoke("runs", "shop")
    assert code == 0
    kinds = [line.split("│")[3].strip() for line in output.splitlines() if "│ shop" in line]
    assert kinds == ["preview", "manual"]  # newest first; the dry run is not a run

    code, output = _invoke("sources", "show", "shop")
    assert code == 0 and "last run: preview run " in output and " succeeded at " in output


def test_create_refuses_an_account_without_analytics_role(authorizer: str, tmp_path: Path) -> None:
    path = _source_file(tmp_path, accounts=f"[{JPY_ADVERTISER_ID}]")
    code, output = _invoke("sources", "create", "--file", str(path))
    assert code == 2
    assert f"accounts: insufficient permissions on ad account {JPY_ADVERTISER_ID}" in output


def test_run_on_a_terminal_shows_steps_rows_calls_and_eta(authorizer: str, tmp_path: Path) -> None:
    """`pinads run` in a real terminal (a pty): the progress bar counts steps, rows and API
    calls with the time left, then the summary replaces it."""
    code, output = _invoke("sources", "create", "--file", str(_source_file(tmp_path)))
    assert code == 0, output
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40"}
    process = subprocess.Popen(
        [str(PINADS), "run", "shop"], stdout=follower, stderr=follower, env=env, close_fds=True
    )
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is gone
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0, screen
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode(errors="replace"))
    bars = re.findall(r"steps [━ ]*(\d+)/(\d+) ([\d,]+) rows, (\d+) API calls, ETA ([-:\d]+)", text)
    assert bars, text
    done, total, rows, calls, eta = bars[-1]
    assert done == total and int(rows.replace(",", "")) > 0 and eta == "0:00:00", bars
    summary = text.strip().splitlines()[-1]
    assert f"{rows} rows into shop" in summary and f"{calls} API calls (planned " in summary
