"""The example dbt project (examples/dbt) with dbt-duckdb from the package index, on a DuckDB
file a direct `pinads run` filled from the emulator: `dbt build` makes daily spend per
campaign in account currency and its tests pass; the numbers are the table's micro-units / 1e6."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb

from pinads.emulator import EUR_ADVERTISER_ID

from .tapkit import SECOND_ACCOUNT, direct_run, source_yaml
from .venvs import ROOT, tool


def _dbt(project: Path, database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PINADS_DUCKDB": str(database),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
    }
    return subprocess.run(
        [
            str(tool("dbt", "dbt")),
            *args,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_dbt_daily_campaign_spend_in_account_currency(authorizer: str, tmp_path: Path) -> None:
    tool("dbt", "dbt")
    source = source_yaml(
        tmp_path, name="campaign_daily", accounts=(EUR_ADVERTISER_ID, SECOND_ACCOUNT)
    )
    rows = direct_run(source, "campaign_daily")
    project = tmp_path / "dbt"
    shutil.copytree(ROOT / "examples/dbt", project)
    database = tmp_path / "direct.duckdb"
    # `dbt build` is `dbt run` then `dbt test` in one process (dbt's start-up is most of it).
    result = _dbt(project, database, "build")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # the model and its 6 tests (5 column tests, tests/spend_is_never_negative.sql)
    assert "PASS=7 WARN=0 ERROR=0 SKIP=0" in result.stdout, result.stdout[-2000:]

    expected: dict[tuple[str, str, str], int] = defaultdict(int)
    currencies = {}
    for row in rows:
        expected[str(row["date"]), row["ad_account_id"], row["campaign_id"]] += row[
            "spend_in_micro_dollar"
        ]
        currencies[row["ad_account_id"]] = row["_pinads_account_currency"]
    with duckdb.connect(str(database), read_only=True) as con:
        model = con.execute(
            "SELECT date, ad_account_id, campaign_id, currency, spend_micro, spend, "
            "typeof(spend) FROM main.daily_campaign_spend"
        ).fetchall()
    assert len(model) == len(expected) > 0
    assert {row[3] for row in model} == set(currencies.values()) and "EUR" in currencies.values()
    for day, account, campaign, currency, micro, spend, spend_type in model:
        assert spend_type == "DECIMAL(38,6)"
        assert micro == expected[str(day), account, campaign]
        assert spend == Decimal(micro) / Decimal(1_000_000)  # exact, not a float
        assert currency == currencies[account]
