"""Which edits change what a table's rows are (pure: configs in, changes out)."""

from __future__ import annotations

from typing import Any

import pytest

from pinads.runner.grain import grain_changes, refusal_message
from pinads.sources.config import SourceConfig

BASE: dict[str, Any] = {
    "name": "shop",
    "dataset": "campaign_analytics",
    "authorizer": "demo",
    "accounts": ["1", "2"],
    "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "CAMPAIGN_NAME"],
    "metrics": ["SPEND_IN_MICRO_DOLLAR"],
}


def _changed(**edit: Any) -> list[str]:
    old = SourceConfig.model_validate(BASE)
    new = SourceConfig.model_validate({**BASE, **edit})
    return [change.field for change in grain_changes(old, new)]


@pytest.mark.parametrize(
    ("edit", "fields"),
    [
        ({"granularity": "WEEK"}, ["granularity"]),
        ({"granularity": "HOUR"}, ["granularity"]),
        ({"dataset": "ad_group_analytics"}, ["dataset"]),
        ({"click_window_days": 7}, ["click_window_days"]),
        (
            {"engagement_window_days": 1, "view_window_days": 7},
            ["engagement_window_days", "view_window_days"],
        ),
        ({"conversion_report_time": "TIME_OF_CONVERSION"}, ["conversion_report_time"]),
        ({"accounts": ["1"]}, ["accounts"]),
        ({"accounts": ["1", "3"]}, ["accounts"]),
        ({"include_archived": False}, ["include_archived"]),
        ({"write_mode": "append"}, ["write_mode"]),
        ({"destination": "duckdb:///elsewhere.duckdb"}, ["destination"]),
    ],
)
def test_edits_that_change_the_grain(edit: dict[str, Any], fields: list[str]) -> None:
    assert _changed(**edit) == fields


@pytest.mark.parametrize(
    "edit",
    [
        {"metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"]},
        {"metrics": ["IMPRESSION_1"]},
        {"attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"]},  # a name, not a key column
        {"attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "CAMPAIGN_STATUS"]},
        {"metadata": ["extracted_at", "account_currency"]},
        {"schedule": "daily 06:00", "allow_empty": True, "lookback_days": 3},
        {"date_range": "last_7_days"},
        {"accounts": ["1", "2", "3"]},
        {"accounts": "all"},
        {"write_mode": "insert_ignore"},
        {"write_mode": "replace"},
        {"authorizer": "other"},
        {"include_archived": True},
    ],
)
def test_edits_that_keep_the_grain(edit: dict[str, Any]) -> None:
    assert _changed(**edit) == []


def test_replace_mode_builds_the_whole_table_at_every_run() -> None:
    """No mix is possible: the next replace run swaps in a table of the new config only."""
    assert _changed(write_mode="replace", granularity="WEEK", click_window_days=7) == []
    old = SourceConfig.model_validate({**BASE, "write_mode": "replace"})
    new = SourceConfig.model_validate({**BASE, "granularity": "WEEK"})
    assert [c.field for c in grain_changes(old, new)] == ["granularity"]  # back to upsert


def test_all_accounts_to_a_list_leaves_accounts_out() -> None:
    old = SourceConfig.model_validate({**BASE, "accounts": "all"})
    new = SourceConfig.model_validate(BASE)
    [change] = grain_changes(old, new)
    assert (change.field, change.before, change.after) == ("accounts", "all", "[1, 2]")


def test_entity_datasets_have_no_granularity_or_windows() -> None:
    entity = {"name": "shop", "dataset": "campaigns", "authorizer": "demo"}
    old = SourceConfig.model_validate(entity)
    new = SourceConfig.model_validate({**entity, "granularity": "WEEK", "click_window_days": 7})
    assert grain_changes(old, new) == []


def test_the_message_names_each_change_and_hides_passwords() -> None:
    old = SourceConfig.model_validate(
        {**BASE, "destination": "postgresql://pinads:s3cret-pw@db.example/ads"}
    )
    new = SourceConfig.model_validate({**BASE, "granularity": "WEEK", "click_window_days": 7})
    message = refusal_message("shop", grain_changes(old, new))
    assert "s3cret-pw" not in message
    assert "destination (postgresql://pinads:***@db.example/ads -> duckdb:" in message
    assert message.index("granularity (DAY -> WEEK") < message.index("click_window_days (30 -> 7")
    assert "\n" not in message
