"""`tap-pinads` / `pinads singer` as a real process against the loopback emulator: the catalog,
a sync equal to `pinads run`, stdout holding Singer messages only, catalog selection, STATE
that resumes an interrupted backfill-sized range, Meltano-style JSON config, and errors."""

from __future__ import annotations

import io
import json
import signal
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pinads.api.client import PinterestClient
from pinads.emulator import EUR_ADVERTISER_ID, EmulatorConfig
from pinads.extract.plan import Strategy
from pinads.singer import Bookmark, discover, load_tap_config, reading_period, sync

from .tapkit import (
    SECOND_ACCOUNT,
    TAP,
    comparable,
    direct_run,
    messages,
    records,
    run_tap,
    source_yaml,
)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # Reports finish at their second poll: a backfill-sized range takes seconds.
    return EmulatorConfig(seed=7, report_polls_until_finished=1)


def _today() -> date:
    return datetime.now(UTC).date()


def test_discover_prints_a_catalog_with_keys_and_exact_types(tmp_path: Path) -> None:
    result = run_tap("--config", str(source_yaml(tmp_path)), "--discover")
    assert result.returncode == 0, result.stderr
    (stream,) = json.loads(result.stdout)["streams"]
    assert stream["tap_stream_id"] == "shop"
    assert stream["key_properties"] == [
        "ad_account_id",
        "campaign_id",
        "date",
        "_pinads_click_window_days",
        "_pinads_engagement_window_days",
        "_pinads_view_window_days",
        "_pinads_conversion_report_time",
    ]
    assert stream["replication_method"] == "INCREMENTAL" and stream["replication_key"] == "date"
    properties = stream["schema"]["properties"]
    assert properties["spend_in_micro_dollar"]["type"] == ["integer", "null"]
    assert properties["date"] == {"type": ["string", "null"], "format": "date"}
    assert properties["_pinads_extracted_at"]["format"] == "date-time"
    assert properties["_pinads_click_window_days"]["type"] == ["integer"]
    inclusion = {tuple(m["breadcrumb"]): m["metadata"].get("inclusion") for m in stream["metadata"]}
    assert inclusion[("properties", "date")] == "automatic"
    assert inclusion[("properties", "campaign_name")] == "available"


def test_sync_equals_a_direct_run_and_stdout_is_only_singer(
    authorizer: str, tmp_path: Path
) -> None:
    path = source_yaml(tmp_path, accounts=(EUR_ADVERTISER_ID, SECOND_ACCOUNT))
    result = run_tap("--config", str(path))
    assert result.returncode == 0, result.stderr
    parsed = messages(result.stdout)  # every line is a JSON message
    kinds = [m["type"] for m in parsed]
    assert kinds[0] == "SCHEMA" and kinds[-1] == "STATE"
    assert set(kinds) == {"SCHEMA", "RECORD", "STATE"}
    assert b"shop: done, " in result.stderr  # the logs went to stderr
    tapped = records(parsed)
    assert {row["ad_account_id"] for row in tapped} == {EUR_ADVERTISER_ID, SECOND_ACCOUNT}
    assert comparable(tapped) == comparable(direct_run(path))
    final = parsed[-1]["value"]["bookmarks"]["shop"]
    assert final == {
        "replication_key": "date",
        "replication_key_value": str(_today() - timedelta(1)),
    }


def test_catalog_selection_drops_streams_and_fields_but_never_keys(
    authorizer: str, tmp_path: Path
) -> None:
    path = source_yaml(tmp_path)
    catalog = json.loads(run_tap("--config", str(path), "--discover").stdout)
    for item in catalog["streams"][0]["metadata"]:
        if item["breadcrumb"] in (["properties", "campaign_name"], ["properties", "date"]):
            item["metadata"]["selected"] = False
    catalog_file = tmp_path / "catalog.json"
    catalog_file.write_text(json.dumps(catalog))
    parsed = messages(run_tap("--config", str(path), "--catalog", str(catalog_file)).stdout)
    row = records(parsed)[0]
    assert "campaign_name" not in row and "date" in row  # a key column stays
    assert "campaign_name" not in parsed[0]["schema"]["properties"]


def test_a_stream_the_catalog_does_not_select_is_not_read(tmp_path: Path) -> None:
    """In process: a deselected stream gets no message and opens no client."""
    path = source_yaml(tmp_path)
    tap = load_tap_config(path, today=_today())
    catalog = discover(tap)
    catalog["streams"][0]["metadata"][0]["metadata"]["selected"] = False
    out = io.BytesIO()

    def no_client(label: str) -> PinterestClient:
        raise AssertionError(f"a client was opened for {label}")

    assert sync(tap, catalog=catalog, state=None, out=out, opener=no_client) == []
    assert out.getvalue() == b""


def _sync_until_first_step(args: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Start a sync, read its messages up to the first STATE marking a step done, then kill
    it (SIGKILL): the records before that STATE, and that state."""
    process = subprocess.Popen([str(TAP), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    seen: list[dict[str, Any]] = []
    try:
        for line in process.stdout:
            message = json.loads(line)
            if message["type"] == "STATE":
                state: dict[str, Any] = message["value"]
                return seen, state
            seen.append(message)
        raise AssertionError("the sync ended without a STATE")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)


def test_state_resumes_an_interrupted_backfill_range(authorizer: str, tmp_path: Path) -> None:
    """281 days (400 to 120 days ago) over two accounts are 2 async-report batches each; the
    sync is killed after its first batch. Rerun with the STATE it had emitted, it reads the
    same range, skips that batch, and the two runs' records are exactly those of one
    uninterrupted sync."""
    start = _today() - timedelta(days=400)
    end = _today() - timedelta(days=120)
    path = source_yaml(
        tmp_path,
        accounts=(EUR_ADVERTISER_ID, SECOND_ACCOUNT),
        date_range=f"{{start: {start}, end: {end}}}",
    )
    before, state = _sync_until_first_step(["--config", str(path)])
    progress = state["bookmarks"]["shop"]["in_progress"]
    assert (progress["start"], progress["end"]) == (str(start), str(end))
    assert progress["strategy"] == "cheapest"
    (done,) = progress["steps_done"]
    _, account, first, last = done.split(":")
    assert done.startswith("report:") and records(before)

    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(state))
    resumed = run_tap("--config", str(path), "--state", str(state_file))
    assert resumed.returncode == 0, resumed.stderr
    assert b"in 4 steps (1 done before)" in resumed.stderr
    again = messages(resumed.stdout)
    assert not [
        row
        for row in records(again)
        if row["ad_account_id"] == account and first <= row["date"] <= last
    ]
    assert again[-1]["value"]["bookmarks"]["shop"] == {
        "replication_key": "date",
        "replication_key_value": str(end),
    }
    whole = run_tap("--config", str(path))
    assert comparable(records(before) + records(again)) == comparable(
        records(messages(whole.stdout))
    )


def test_meltano_style_json_config(authorizer: str, tmp_path: Path, pinads_home: Path) -> None:
    """Meltano's config.json: the source's settings as keys, `metadata_columns` (Meltano keeps
    `metadata` for itself), unset settings as null, `pinads_home` saying where the authorizer
    lives (here the only way to find it: PINADS_HOME points elsewhere)."""
    config = {
        "pinads_home": str(pinads_home),
        "name": "shop",
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
        "attributes": ["DATE", "CAMPAIGN_ID"],
        "metrics": ["SPEND_IN_MICRO_DOLLAR"],
        "date_range": "last_7_days",
        "metadata_columns": ["account_currency"],
        "lookback_days": None,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = run_tap("--config", str(path), env={"PINADS_HOME": str(tmp_path / "elsewhere")})
    assert result.returncode == 0, result.stderr
    row = records(messages(result.stdout))[0]
    assert row["_pinads_account_currency"] == "EUR" and isinstance(
        row["spend_in_micro_dollar"], int
    )


def test_config_and_state_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: shop\ndataset: campaign_analytics\nauthorizer: demo\nmetrics: [SPND]\n")
    result = run_tap("--config", str(bad), "--discover")
    assert result.returncode == 2 and result.stdout == b""
    error = result.stderr.decode().strip()
    assert error.startswith("error: source 'shop' is not valid") and "SPND" in error
    assert "Traceback" not in error

    state = tmp_path / "state.json"
    state.write_text(json.dumps({"bookmarks": {"shop": {"replication_key_value": "soon"}}}))
    result = run_tap("--config", str(source_yaml(tmp_path)), "--state", str(state))
    assert result.returncode == 2 and result.stdout == b""
    assert "stream 'shop' has 'soon' where a day (YYYY-MM-DD) belongs" in result.stderr.decode()


def test_a_bookmark_moves_the_start_back_to_the_day_after_it(tmp_path: Path) -> None:
    """A sync after a long pause reads from the day after its bookmark (async reports past the
    synchronous endpoints' 90 days); a recent bookmark leaves the source's own range, which
    already re-reads the attribution window."""
    today = _today()
    (stream,) = load_tap_config(source_yaml(tmp_path), today=today).streams
    recent = Bookmark("shop", {"replication_key_value": str(today - timedelta(days=3))})
    period, strategy = reading_period(stream, recent, today=today)
    assert period is not None and period.end == today - timedelta(days=1)
    assert period.start == today - timedelta(days=30) and strategy is Strategy.AUTO

    paused = Bookmark("shop", {"replication_key_value": str(today - timedelta(days=200))})
    period, strategy = reading_period(stream, paused, today=today)
    assert period is not None and period.start == today - timedelta(days=199)
    assert strategy is Strategy.CHEAPEST


def test_several_sources_are_streams_with_their_own_bookmarks(
    authorizer: str, tmp_path: Path
) -> None:
    """`sources: [...]`: an analytics stream (incremental on `date`) and an entity list
    (full table, keyed on the campaign id) in one sync, one STATE holding both bookmarks and
    passing an unrelated one through."""
    campaigns = {
        "name": "campaigns",
        "dataset": "campaigns",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
    }
    shop = {
        "name": "shop",
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
        "date_range": "last_7_days",
        "metrics": ["SPEND_IN_MICRO_DOLLAR"],
    }
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"sources": [shop, campaigns]}))
    catalog = json.loads(run_tap("--config", str(config), "--discover").stdout)
    by_name = {stream["stream"]: stream for stream in catalog["streams"]}
    assert by_name["campaigns"]["replication_method"] == "FULL_TABLE"
    assert "replication_key" not in by_name["campaigns"]
    assert by_name["campaigns"]["key_properties"] == ["id"]

    state = tmp_path / "state.json"
    state.write_text(json.dumps({"bookmarks": {"other": {"replication_key_value": "x"}}}))
    result = run_tap("--config", str(config), "--state", str(state))
    assert result.returncode == 0, result.stderr
    parsed = messages(result.stdout)
    assert [m["stream"] for m in parsed if m["type"] == "SCHEMA"] == ["shop", "campaigns"]
    listed = records(parsed, "campaigns")
    assert listed and {row["ad_account_id"] for row in listed} == {EUR_ADVERTISER_ID}
    bookmarks = parsed[-1]["value"]["bookmarks"]
    assert bookmarks["other"] == {"replication_key_value": "x"}
    assert bookmarks["campaigns"] == {}
    assert bookmarks["shop"]["replication_key_value"] == str(_today() - timedelta(days=1))
