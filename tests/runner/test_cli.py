"""The sources/run CLI through `pinads.cli.main` semantics (Typer's runner)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pinads.cli import app
from pinads.runner import service
from pinads.runner.store import SourceStore
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig

runner = CliRunner()
CONFIG = SourceConfig.model_validate(
    {
        "name": "shop",
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "schedule": "daily 06:00",
    }
)


def _invoke(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})
    if result.exception and not isinstance(result.exception, SystemExit):
        code = getattr(result.exception, "exit_code", 1)
        return code, f"{result.output}{result.exception}"
    return result.exit_code, result.output


def test_create_from_file_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: shop\ndataset: campaign_analytics\nauthorizer: nobody\n"
        "metrics: [SPEND_IN_MICRO_DOLAR]\nattributes: [DATE, AD_ID]\n"
    )
    code, output = _invoke("sources", "create", "--file", str(path))
    assert code == 2
    # Every problem at once, each with its field and what to change (exact words).
    assert output.strip() == (
        "source 'shop' is not valid (3 problems): "
        "authorizer: no authorizer 'nobody' (authorizers: none yet); add one with "
        "`pinads auth add`; "
        "attributes: AD_ID is not an attribute of campaign_analytics (`pinads metrics "
        "campaign_analytics` lists them); "
        "metrics: unknown metric SPEND_IN_MICRO_DOLAR; did you mean SPEND_IN_MICRO_DOLLAR, "
        "SPEND_IN_DOLLAR, CPV_IN_MICRO_DOLLAR? (`pinads metrics campaign_analytics` lists them)"
    )


def test_list_show_delete_and_runs() -> None:
    store = SourceStore(load_settings())
    store.save(CONFIG)
    store.begin(
        source="shop", kind="manual", run_id="r1", start=date(2026, 11, 1), end=date(2026, 11, 2)
    )
    store.finish("r1", result=None, error="No data retrieved: example")
    store.close()
    code, output = _invoke("sources", "list")
    assert code == 0 and "shop" in output and "campaign_analytics" in output
    code, output = _invoke("sources", "show", "shop")
    assert code == 0 and "dataset: campaign_analytics" in output
    assert "next due: " in output and " 06:00 UTC" in output
    assert "last run: manual run r1 for 2026-11-01..2026-11-02 failed at " in output
    assert "No data retrieved: example" in output
    code, output = _invoke("runs", "shop")
    assert code == 0 and "r1" in output and "failed" in output
    code, output = _invoke("sources", "delete", "shop", "--yes")
    assert code == 0 and "deleted source shop" in output
    code, output = _invoke("sources", "show", "shop")
    assert code == 2 and "no source named 'shop'" in output


def test_deleting_a_missing_source_fails_at_once_without_asking() -> None:
    store = SourceStore(load_settings())
    store.save(CONFIG)
    store.close()
    deleted = subprocess.run(  # the console script: its one-line errors and exit codes
        [str(Path(sys.executable).parent / "pinads"), "sources", "delete", "shpo"],
        input="y\n",  # would confirm, were it asked
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (deleted.returncode, deleted.stdout) == (2, "")  # no "Delete source shpo?" first
    assert deleted.stderr == (
        "error: no source named 'shpo' (sources: shop); create one with `pinads sources create`\n"
    )
    assert [config.name for config in service.list_sources()] == ["shop"]


def test_run_needs_both_dates() -> None:
    code, output = _invoke("run", "shop", "--from", "2026-01-01")
    assert code == 2 and "give both --from and --to" in output


@pytest.mark.parametrize("answer_test_data", ["n"])
def test_wizard_asks_in_the_seed_order(answer_test_data: str) -> None:
    answers = [
        "shop",  # name
        "campaign_analytics",  # dataset
        "nobody",  # authorizer
        "all",  # accounts
        "DATE AD_ACCOUNT_ID CAMPAIGN_ID",  # attributes
        "SPEND_IN_MICRO_DOLLAR IMPRESSION_1",  # metrics
        "DAY",  # granularity
        "last_7_days",  # date range
        "extracted_at source_name",  # metadata
        "none",  # schedule
        "n",  # allow empty
        "duckdb",  # destination
        "upsert",  # write mode
        answer_test_data,  # test data now?
    ]
    code, output = _invoke("sources", "create", stdin="\n".join(answers) + "\n")
    order = [
        "Source name",
        "Dataset",
        "Authorizer",
        "Ad accounts",
        "Attributes",
        "Metrics",
        "Metadata columns",
        "Schedule",
        "Allow empty",
        "Destination",
        "Write mode",
        "Test Data now",
    ]
    positions = [output.index(prompt) for prompt in order]
    assert positions == sorted(positions)
    # The authorizer does not exist: the source is refused, with the reason.
    assert code == 2 and "authorizer: " in output


def test_backfill_beyond_the_limit_names_the_earliest_date() -> None:
    store = SourceStore(load_settings())
    store.save(CONFIG)
    store.close()
    earliest = datetime.now(UTC).date() - timedelta(days=914)
    code, output = _invoke("backfill", "shop", "--from", "2020-01-01", "--to", "2020-02-01")
    assert code == 2
    assert output == (
        "--from 2020-01-01 is past Pinterest's limit: campaign_analytics (DAY) keeps 914 days "
        f"of history through async reports, so the earliest day is {earliest}; run "
        f"`pinads backfill shop --from {earliest}`"
    )
