"""`pinads datasets` and `pinads metrics` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from pinads.cli import app

WIDE = {"COLUMNS": "220", "NO_COLOR": "1"}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=WIDE)
    return result.exit_code, result.output


def test_datasets_lists_every_dataset_with_kind_level_and_metric_count() -> None:
    code, out = run("datasets")
    assert code == 0
    assert "71 datasets" in out
    row = next(line for line in out.splitlines() if " campaign_analytics " in line)
    assert "analytics" in row and "campaign" in row and "564" in row
    row = next(line for line in out.splitlines() if " keywords " in line)
    assert "entity" in row


def test_datasets_search_finds_by_pinterest_name() -> None:
    code, out = run("datasets", "--search", "apptype")
    assert code == 0
    assert "4 datasets" in out
    assert "campaign_by_device" in out and "campaign x APPTYPE" in out
    assert "campaign_analytics" not in out


def test_datasets_kind_filter_and_no_match() -> None:
    code, out = run("datasets", "--kind", "entity")
    assert code == 0 and "9 datasets" in out and "campaign_analytics" not in out
    code, out = run("datasets", "--search", "zzzz qqqq")
    assert code == 1
    assert "no dataset matches 'zzzz qqqq': try fewer or shorter words" in out


def test_metrics_shows_attributes_and_typed_metrics() -> None:
    code, out = run("metrics", "campaign_analytics")
    assert code == 0
    assert "campaign_analytics: 564 metrics" in out
    assert "CAMPAIGN_ID (key)" in out
    assert "campaigns.name" in out
    spend = next(line for line in out.splitlines() if "│ SPEND_IN_MICRO_DOLLAR " in line)
    assert "int64" in spend and "micro_currency" in spend
    web = next(line for line in out.splitlines() if "│ TOTAL_WEB_SIGNUP " in line)
    assert "[conversion, async reports only]" in web


def test_metrics_search() -> None:
    code, out = run("metrics", "ad_analytics", "--search", "p25")
    assert code == 0
    assert "ad_analytics: 3 metrics" in out
    assert "VIDEO_P25_COMBINED_1" in out and "SPEND_IN_MICRO_DOLLAR" not in out


def test_metrics_of_an_entity_dataset() -> None:
    code, out = run("metrics", "keywords")
    assert code == 0
    assert "MATCH_TYPE" in out
    assert "entity dataset: attributes only, no metrics" in out


def test_unknown_dataset_is_one_line_with_the_closest_names() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pinads", "metrics", "campain_analytics"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **WIDE},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: unknown dataset 'campain_analytics': did you mean campaign_analytics, "
        "ad_analytics, ad_group_analytics?"
    )


def test_json_outputs_parse_and_carry_the_declarations() -> None:
    code, out = run("datasets", "--search", "gender", "--kind", "analytics", "--json")
    assert code == 0
    rows = json.loads(out)
    assert rows[0] == {
        "name": "ad_account_by_gender",
        "kind": "analytics",
        "title": "Ad account by gender",
        "description": "Metrics for the whole ad account, split by gender (Pinterest GENDER: "
        "female, male or unknown).",
        "level": "ad_account",
        "targeting_type": "GENDER",
        "attributes": 7,
        "metrics": 562,
        "sync": True,
        "async": True,
    }
    code, out = run("metrics", "campaign_analytics", "--json")
    assert code == 0
    details = json.loads(out)
    assert details["sync"]["id_param"] == "campaign_ids"
    assert details["async_report"]["level"] == "CAMPAIGN"
    spend = next(m for m in details["metrics"] if m["name"] == "SPEND_IN_MICRO_DOLLAR")
    assert (spend["type"], spend["unit"], spend["in_async"]) == ("int64", "micro_currency", True)


def test_narrow_terminals_drop_the_level_column() -> None:
    result = CliRunner().invoke(app, ["datasets", "-s", "gender"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert "level" not in result.output.splitlines()[2]
    assert "ad_account_by_gender" in result.output
