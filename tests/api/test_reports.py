"""Async report lifecycle against the emulator: create, poll, download without auth, parse,
recreate on EXPIRED, clear errors on FAILED. Sleeps are injected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from pinads.api import PinterestClient, ReportPolling, run_report
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    LARGE_ADVERTISER_ID,
    EmulatorConfig,
    EmulatorState,
    InProcessTransport,
    create_app,
)
from pinads.emulator.limits import FaultConfig
from pinads.emulator.tokens import IssuedTokens, TokenInfo
from pinads.errors import ExtractError

from .conftest import FakeTime, Journal, RecordingSink, RecordingTransport, demo_app, token_set

REPORTS = f"/v5/ad_accounts/{LARGE_ADVERTISER_ID}/reports"
POLLS_UNTIL_FINISHED = 2


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(seed=7, report_polls_until_finished=POLLS_UNTIL_FINISHED)


def _body(report_format: str = "JSON") -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "start_date": (today - timedelta(days=200)).isoformat(),
        "end_date": (today - timedelta(days=190)).isoformat(),
        "granularity": "DAY",
        "level": "CAMPAIGN",
        "columns": ["SPEND_IN_MICRO_DOLLAR", "TOTAL_CLICKTHROUGH"],
        "report_format": report_format,
    }


def _client(tokens: IssuedTokens, transport: httpx.BaseTransport) -> PinterestClient:
    return PinterestClient(demo_app(), token_set(tokens), RecordingSink(), transport=transport)


def _download_requests(recording: RecordingTransport) -> list[httpx.Request]:
    return [r for r in recording.sent if "/_emulator/report-files/" in r.url.path]


def test_report_lifecycle_json(
    emulator_tokens: IssuedTokens, recording: RecordingTransport, journal: Journal
) -> None:
    fake = FakeTime()
    with _client(emulator_tokens, recording) as client:
        result = run_report(client, LARGE_ADVERTISER_ID, _body(), sleep=fake.sleep)
        with result:
            rows = list(result.rows())
        stats = client.stats
    assert result.creations == 1
    assert result.report_format == "JSON"
    assert result.size_bytes > 0
    assert rows
    assert all("CAMPAIGN_ID" in row and "DATE" in row for row in rows)
    # One creation and POLLS_UNTIL_FINISHED + 1 polls, all in the analytics budget.
    assert stats.calls_by_category == {"ads_analytics": 1 + POLLS_UNTIL_FINISHED + 1}
    assert journal.requests(REPORTS) == [f"POST {REPORTS}"] + [f"GET {REPORTS}"] * 3
    assert len(fake.sleeps) == POLLS_UNTIL_FINISHED + 1  # a pause before every poll
    assert fake.sleeps == sorted(fake.sleeps)  # backoff never shrinks
    downloads = _download_requests(recording)
    assert len(downloads) == 1
    assert "authorization" not in downloads[0].headers


def test_csv_report_has_the_same_rows_as_json(
    emulator_tokens: IssuedTokens, emulator_transport: httpx.BaseTransport
) -> None:
    fake = FakeTime()
    with _client(emulator_tokens, emulator_transport) as client:
        with run_report(client, LARGE_ADVERTISER_ID, _body("JSON"), sleep=fake.sleep) as result:
            json_keys = {(str(r["CAMPAIGN_ID"]), r["DATE"]) for r in result.rows()}
        with run_report(client, LARGE_ADVERTISER_ID, _body("CSV"), sleep=fake.sleep) as result:
            csv_rows = list(result.rows())
    csv_keys = {(r["CAMPAIGN_ID"], r["DATE"]) for r in csv_rows}
    assert csv_keys == json_keys
    assert all(isinstance(r["TOTAL_CLICKTHROUGH"], str) for r in csv_rows)


def test_expired_report_is_created_again(
    emulator: EmulatorState,
    emulator_tokens: IssuedTokens,
    emulator_transport: httpx.BaseTransport,
    journal: Journal,
) -> None:
    moved: list[bool] = []

    def before(request: httpx.Request) -> None:
        # The first download arrives after the report's one-hour life: link and report gone.
        if "/report-files/" in request.url.path and not moved:
            moved.append(True)
            emulator.advance(seconds=emulator.config.report_ttl_seconds + 60)

    recording = RecordingTransport(emulator_transport, journal, before=before)
    fake = FakeTime()
    with (
        _client(emulator_tokens, recording) as client,
        run_report(client, LARGE_ADVERTISER_ID, _body(), sleep=fake.sleep) as result,
    ):
        rows = list(result.rows())
    assert result.creations == 2
    assert rows
    assert journal.requests(REPORTS).count(f"POST {REPORTS}") == 2
    assert len(_download_requests(recording)) == 2


def test_expired_link_is_fetched_again_without_recreating(
    emulator: EmulatorState,
    emulator_tokens: IssuedTokens,
    emulator_transport: httpx.BaseTransport,
    journal: Journal,
) -> None:
    moved: list[bool] = []

    def before(request: httpx.Request) -> None:
        if "/report-files/" in request.url.path and not moved:
            moved.append(True)
            emulator.advance(seconds=emulator.config.report_link_ttl_seconds + 1)

    recording = RecordingTransport(emulator_transport, journal, before=before)
    with (
        _client(emulator_tokens, recording) as client,
        run_report(client, LARGE_ADVERTISER_ID, _body(), sleep=FakeTime().sleep) as result,
    ):
        assert list(result.rows())
    assert result.creations == 1
    assert len(_download_requests(recording)) == 2


def test_report_that_keeps_expiring_fails_clearly(
    emulator: EmulatorState,
    emulator_tokens: IssuedTokens,
    emulator_transport: httpx.BaseTransport,
    journal: Journal,
) -> None:
    def before(request: httpx.Request) -> None:
        if "/report-files/" in request.url.path:
            emulator.advance(seconds=emulator.config.report_ttl_seconds + 60)

    recording = RecordingTransport(emulator_transport, journal, before=before)
    polling = ReportPolling(max_recreates=1)
    with (
        _client(emulator_tokens, recording) as client,
        pytest.raises(ExtractError, match="2 tries ended EXPIRED, EXPIRED; run the extraction"),
    ):
        run_report(client, LARGE_ADVERTISER_ID, _body(), polling=polling, sleep=FakeTime().sleep)
    assert journal.requests(REPORTS).count(f"POST {REPORTS}") == 2


def test_failed_report_is_a_clear_error() -> None:
    config = EmulatorConfig(seed=7, faults=FaultConfig(report_failure_probability=1.0))
    app = create_app(config)
    state: EmulatorState = app.state.emulator
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read"}))
    transport = InProcessTransport(app)
    try:
        with (
            _client(state.tokens.mint(info, now=state.now()), transport) as client,
            pytest.raises(ExtractError, match=r"3 tries ended FAILED, FAILED, FAILED; run the"),
        ):
            run_report(client, LARGE_ADVERTISER_ID, _body(), sleep=FakeTime().sleep)
        assert app.state.guards.operations["analytics/create_report"] == 3
    finally:
        transport.close()


def test_a_report_that_failed_once_is_created_again_after_a_pause() -> None:
    config = EmulatorConfig(seed=7, faults=FaultConfig(failed_reports=1))
    app = create_app(config)
    state: EmulatorState = app.state.emulator
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read"}))
    transport = InProcessTransport(app)
    fake = FakeTime()
    polling = ReportPolling(recreate_delay_seconds=5.0)
    try:
        with (
            _client(state.tokens.mint(info, now=state.now()), transport) as client,
            run_report(
                client, LARGE_ADVERTISER_ID, _body(), polling=polling, sleep=fake.sleep
            ) as result,
        ):
            assert result.creations == 2
            assert list(result.rows())
        assert app.state.guards.operations["analytics/create_report"] == 2
        assert 5.0 in fake.sleeps  # the pause before the second report
    finally:
        transport.close()


def test_polling_gives_up_after_max_wait(
    emulator_tokens: IssuedTokens, emulator_transport: httpx.BaseTransport
) -> None:
    fake = FakeTime()
    polling = ReportPolling(first_delay_seconds=1.0, backoff_factor=1.0, max_wait_seconds=1.5)
    with (
        _client(emulator_tokens, emulator_transport) as client,
        pytest.raises(ExtractError, match="not ready after 1 s"),
    ):
        run_report(client, LARGE_ADVERTISER_ID, _body(), polling=polling, sleep=fake.sleep)
    assert fake.sleeps == [1.0]
