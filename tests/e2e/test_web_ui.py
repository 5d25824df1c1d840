"""Issue 16 in a real headless Chromium: each defect the walk-through found, reproduced and
then fixed; a keyboard-only walk of the wizard. One emulator, one pinads server and one logged
in browser context for the whole module (the tests share a world and clean up after
themselves), so the module costs seconds, not a server start per test."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pinads.auth import AuthorizerService
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EUR_ADVERTISER_ID,
    EmulatorConfig,
    EmulatorServer,
)
from pinads.settings import AppSettings
from pinads.state import open_control_db
from pinads.web.app import create_app
from pinads.web.users import WebUsers

from .conftest import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]
PASSWORD = "browser-secret-1"


@dataclass(frozen=True)
class World:
    url: str
    settings: AppSettings
    emulator: EmulatorServer
    tmp: Path


def _import_authorizer(settings: AppSettings, emulator: EmulatorServer, label: str) -> None:
    minted = httpx.post(
        f"{emulator.base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}
    ).json()
    with AuthorizerService(settings) as service:
        service.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=minted["refresh_token"],
            api_url=emulator.api_url,
            label=label,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    import uvicorn

    tmp = tmp_path_factory.mktemp("web-ui")
    settings = AppSettings(home=tmp / "home", allowed_roots=str(tmp), database_url=None)
    store = WebUsers(open_control_db(settings))
    store.set_user("admin", PASSWORD)
    store.db.close()
    # Async reports finish on the third poll (about 5 s): a backfill is still running when
    # the next click comes, however busy the machine.
    with EmulatorServer(EmulatorConfig(seed=7, report_polls_until_finished=3)) as emulator:
        for label in ("demo", "second"):
            _import_authorizer(settings, emulator, label)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.02)
        yield World(f"http://127.0.0.1:{sock.getsockname()[1]}", settings, emulator, tmp)
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def logged_in(world: World, chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    tab.on("dialog", lambda dialog: dialog.accept())
    tab.goto(f"{world.url}/login")
    tab.fill("#username", "admin")
    tab.fill("#password", PASSWORD)
    tab.click("button:has-text('Log in')")
    tab.wait_for_url(f"{world.url}/sources")
    yield tab
    context.close()


@pytest.fixture
def ui(logged_in: Any, world: World, monkeypatch: pytest.MonkeyPatch) -> Any:
    # The module's server has its own home; a code path that reads the settings from the
    # environment (the backfill's destination check does) must see the same one.
    monkeypatch.setenv("PINADS_HOME", str(world.settings.home))
    monkeypatch.setenv("PINADS_ALLOWED_ROOTS", str(world.tmp))
    logged_in.set_viewport_size({"width": 1280, "height": 900})
    return logged_in


def _step(page: Any) -> str:
    return str(page.get_attribute("#wizard", "data-step"))


def _swapped(page: Any, before: int) -> None:
    page.wait_for_selector(f"main[data-swap='{before + 1}']")


def _swaps(page: Any) -> int:
    return int(page.get_attribute("main", "data-swap") or 0)


def _press(page: Any, selector: str, key: str) -> None:
    """Press a key in a field and wait for the step the answer shows."""
    before = _swaps(page)
    page.press(selector, key)
    _swapped(page, before)


def _next(page: Any) -> None:
    before = _swaps(page)
    page.click("#next")
    _swapped(page, before)


def _to_account(page: Any, world: World, name: str) -> None:
    page.goto(f"{world.url}/sources/new")
    page.fill("#name", name)
    _next(page)
    page.check("input[name=dataset][value=campaign_analytics]")
    _next(page)


def _choose(page: Any, label: str) -> None:
    before = _swaps(page)
    page.select_option("#authorizer", label)
    _swapped(page, before)


def test_enter_in_a_field_goes_on_never_back_to_step_1(ui: Any, world: World) -> None:
    """Enter pressed the first submit button of the form: the step pills (goto:connector)."""
    ui.goto(f"{world.url}/sources/new")
    ui.fill("#name", "enter_walk")
    _press(ui, "#name", "Enter")
    assert _step(ui) == "dataset"
    ui.fill("#q", "campaign")
    ui.press("#q", "Enter")  # searches in place
    assert _step(ui) == "dataset"
    ui.check("input[name=dataset][value=campaign_analytics]")
    _next(ui)
    _choose(ui, "demo")
    ui.check(f"input[name=accounts][value='{EUR_ADVERTISER_ID}']")
    _next(ui)
    assert _step(ui) == "columns"
    _next(ui)
    _next(ui)
    assert _step(ui) == "snapshot"
    ui.fill("#date_range", "last_7_days")
    _press(ui, "#date_range", "Enter")
    assert _step(ui) == "destination"
    ui.fill("#destination", f"duckdb:///{world.tmp}/enter.duckdb")
    _press(ui, "#destination", "Enter")
    assert _step(ui) == "test"
    _press(ui, "#test_start", "Enter")  # on the last step, Enter runs Test Data
    assert _step(ui) == "test"
    assert ui.get_attribute("#preview", "data-diagnosis") == "data"


def test_authorizer_select_steps_by_keyboard_without_submitting(ui: Any, world: World) -> None:
    """Choosing in the select submitted the form at once (WCAG 3.2.2): a keyboard user could
    not step through the authorizers."""
    _to_account(ui, world, "keys")
    ui.focus("#authorizer")
    for expected in ("demo", "second"):
        before = _swaps(ui)
        ui.keyboard.press("ArrowDown")
        _swapped(ui, before)
        assert _step(ui) == "account"
        assert ui.input_value("#authorizer") == expected
        assert ui.evaluate("document.activeElement.id") == "authorizer"
        assert ui.locator("#accounts input[name=accounts]").count() > 1
    ui.keyboard.press("ArrowDown")  # Add new account…: nothing happens until Next
    ui.wait_for_timeout(400)
    assert ui.url.endswith("/sources/new") and _step(ui) == "account"
    assert ui.input_value("#authorizer") == "__new__"


def _luminance(rgb: tuple[float, ...]) -> float:
    channels = [c / 255 for c in rgb[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(fg: str, bg: str) -> float:
    a, b = (_luminance(tuple(float(v) for v in re.findall(r"[\d.]+", c))) for c in (fg, bg))
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


BADGE_COLOURS = """kinds => kinds.map(kind => {
    const badge = document.createElement('span');
    badge.className = `badge ${kind}`;
    badge.textContent = kind;
    document.querySelector('main').append(badge);
    const style = getComputedStyle(badge);
    const colours = [kind, style.color, style.backgroundColor];
    badge.remove();
    return colours;
})"""


def test_badges_have_at_least_4_5_to_1_contrast(ui: Any, world: World) -> None:
    """The green badges were 4.48:1."""
    ui.goto(f"{world.url}/sources")
    kinds = ["ok", "succeeded", "running", "queued", "warning", "failed", "bad", ""]
    for kind, fg, bg in ui.evaluate(BADGE_COLOURS, kinds):
        assert _contrast(fg, bg) >= 4.5, (kind, fg, bg)


# Tab stops of the step that are visible (a box inside a closed group is not one).
TAB_STOPS = """() => [...document.querySelectorAll(
    '#wizard input:not([type=hidden]), #wizard button, #wizard select, #wizard textarea, '
    + '#wizard summary')].filter(el => el.tabIndex >= 0 && el.checkVisibility()).length"""

# Boxes in the picker that scroll up and down, cutting rows mid-text.
SCROLL_BOXES = """() => [...document.querySelectorAll('#picker .picker-browse *')].filter(el => {
    const style = getComputedStyle(el);
    return ['auto', 'scroll', 'hidden'].includes(style.overflowY)
        && el.scrollHeight > el.clientHeight + 1;
}).map(el => el.className || el.tagName)"""


def _to_columns(page: Any, world: World, name: str) -> None:
    _to_account(page, world, name)
    _choose(page, "demo")
    _next(page)
    assert _step(page) == "columns"


def _chips(page: Any, kind: str) -> list[str]:
    names = page.eval_on_selector_all(
        f"[data-chips={kind}] .chip", "chips => chips.map(c => c.dataset.name)"
    )
    return [str(n) for n in names]


def test_metric_picker_searches_groups_and_lists_the_selection(ui: Any, world: World) -> None:
    """564 metrics were a wall of scroll boxes with rows cut mid-text and 578 Tab stops, with
    no list of what was selected."""
    _to_columns(ui, world, "picker")
    groups = ui.eval_on_selector_all("details.picker-group", "ds => ds.map(d => d.dataset.group)")
    assert groups[:3] == ["attributes", "spend", "cost"]
    assert {"conversions-web", "conversions-inapp", "conversions-offline"} <= set(groups)
    assert ui.evaluate(TAB_STOPS) < 60  # was 607: every box of every group
    assert ui.evaluate(SCROLL_BOXES) == []
    defaults = _chips(ui, "metrics")
    assert defaults and ui.inner_text("#selected-count") == str(
        len(defaults) + len(_chips(ui, "attributes"))
    )

    ui.fill("#column-search", "checkout roas")
    assert ui.is_hidden("details[data-group=spend]")
    assert ui.get_attribute("details[data-group=conversions]", "open") is not None
    assert "found in" in ui.inner_text("#picker-found")
    chosen = ui.locator("details[data-group=conversions] input:checked").count()
    ui.check("input[name=metrics][value=CHECKOUT_ROAS]")
    assert _chips(ui, "metrics")[-1] == "CHECKOUT_ROAS"
    shown = ui.inner_text("details[data-group=conversions] .group-chosen")
    assert shown == f"· {chosen + 1} selected"
    ui.fill("#column-search", "")
    assert ui.is_visible("details[data-group=spend]")

    ui.click("[data-chips=metrics] .chip[data-name=CHECKOUT_ROAS] .chip-remove")
    assert "CHECKOUT_ROAS" not in _chips(ui, "metrics")
    assert not ui.is_checked("input[name=metrics][value=CHECKOUT_ROAS]")
    assert ui.evaluate("document.activeElement.className") == "chip-remove"
    first = defaults[0]
    ui.click(f"[data-chips=metrics] .chip[data-name={first}] .chip-remove")
    _next(ui)
    assert _step(ui) == "metadata"
    before = _swaps(ui)
    ui.click("button[value=back]")
    _swapped(ui, before)
    assert _chips(ui, "metrics") == defaults[1:]  # kept by the draft


def test_pasted_misspelt_names_are_told_apart_and_corrected(ui: Any, world: World) -> None:
    """A misspelt attribute was taken for a metric, with no suggestion; pasted names could
    not be removed."""
    _to_columns(ui, world, "pasted")
    ui.fill("#more_columns", "CAMPAIN_NAME, SPEND_IN_MICRO_DOLAR IMPRESSION_1")
    before = _swaps(ui)
    ui.click("#add-columns")
    _swapped(ui, before)
    attribute = ui.inner_text(".unknown-name[data-name=CAMPAIN_NAME]")
    assert "not an attribute of this dataset" in attribute
    assert "did you mean the attribute CAMPAIGN_NAME" in attribute
    metric = ui.inner_text(".unknown-name[data-name=SPEND_IN_MICRO_DOLAR]")
    assert "did you mean the metric SPEND_IN_MICRO_DOLLAR" in metric
    assert "CAMPAIN_NAME" in _chips(ui, "attributes")
    assert ui.is_checked("input[name=metrics][value=IMPRESSION_1]")

    before = _swaps(ui)
    ui.click("button.use-suggestion:has-text('Use CAMPAIGN_NAME')")
    _swapped(ui, before)
    assert ui.is_checked("input[name=attributes][value=CAMPAIGN_NAME]")
    assert "CAMPAIN_NAME" not in _chips(ui, "attributes")
    ui.click("[data-chips=metrics] .chip[data-name=SPEND_IN_MICRO_DOLAR] .chip-remove")
    assert ui.locator(".unknown-name").count() == 0
    _next(ui)
    assert _step(ui) == "metadata"


def _tab_to(page: Any, selector: str, *, limit: int = 40) -> int:
    """Press Tab until the focus is on `selector`; the number of presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} not reached in {limit} Tab presses")


def _key(page: Any, key: str) -> None:
    before = _swaps(page)
    page.keyboard.press(key)
    _swapped(page, before)


def test_keyboard_only_walk_of_the_wizard(ui: Any, world: World) -> None:
    ui.goto(f"{world.url}/sources/new")
    _tab_to(ui, "#name")
    ui.keyboard.type("keyboard_walk")
    _key(ui, "Enter")
    assert _step(ui) == "dataset"
    _tab_to(ui, "#q")
    ui.keyboard.type("campaign analytics")
    ui.wait_for_selector("label[data-dataset=ad_account_analytics]", state="hidden")
    _tab_to(ui, "input[name=dataset]", limit=5)
    for _ in range(20):
        if ui.evaluate("document.activeElement.value") == "campaign_analytics":
            break
        ui.keyboard.press("ArrowDown")
    ui.keyboard.press("Space")  # Tab focuses the first radio without choosing it
    assert ui.is_checked("input[name=dataset][value=campaign_analytics]")
    _tab_to(ui, "#next")
    _key(ui, "Enter")
    assert _step(ui) == "account"
    _tab_to(ui, "#authorizer", limit=5)
    _key(ui, "ArrowDown")  # demo: its accounts listed, focus kept
    _tab_to(ui, f"input[name=accounts][value='{EUR_ADVERTISER_ID}']")
    ui.keyboard.press("Space")
    _tab_to(ui, "#next")
    _key(ui, "Enter")
    assert _step(ui) == "columns"
    _tab_to(ui, "#column-search")
    ui.keyboard.type("spend in dollar")
    _tab_to(ui, "input[name=metrics][value=SPEND_IN_DOLLAR]", limit=5)
    ui.keyboard.press("Space")
    assert "SPEND_IN_DOLLAR" in _chips(ui, "metrics")
    assert _tab_to(ui, "#next", limit=60) < 60  # past the chips and closed groups, not 578 boxes
    _key(ui, "Enter")
    assert _step(ui) == "metadata"
    _tab_to(ui, "#next")
    _key(ui, "Enter")
    _tab_to(ui, "#date_range")
    _key(ui, "Enter")
    assert _step(ui) == "destination"
    _tab_to(ui, "#destination", limit=5)
    ui.keyboard.press("Control+a")
    ui.keyboard.type(f"duckdb:///{world.tmp}/keyboard.duckdb")
    _key(ui, "Enter")
    assert _step(ui) == "test"
    _tab_to(ui, "#test-data")
    _key(ui, "Enter")
    assert ui.get_attribute("#preview", "data-diagnosis") == "data"
    _tab_to(ui, "#save")
    with ui.expect_navigation():
        ui.keyboard.press("Enter")
    assert ui.url == f"{world.url}/sources/keyboard_walk"
    assert "Source keyboard_walk saved." in ui.inner_text("main")


def test_advanced_attribution_lookback_and_archived_are_saved(ui: Any, world: World) -> None:
    """Attribution windows, conversion report time, lookback and archived entities could not
    be set in the wizard."""
    from pinads.runner import service

    _to_columns(ui, world, "advanced")
    _next(ui)
    _next(ui)
    assert _step(ui) == "snapshot"
    assert ui.get_attribute("#advanced", "open") is None  # all defaults: closed
    ui.click("#advanced summary")
    ui.select_option("#click_window_days", "7")
    ui.select_option("#view_window_days", "0")
    ui.check("input[name=conversion_report_time][value=TIME_OF_CONVERSION]")
    ui.fill("#lookback_days", "10")
    ui.uncheck("#include_archived")
    _next(ui)
    ui.fill("#destination", f"duckdb:///{world.tmp}/advanced.duckdb")
    before = _swaps(ui)
    ui.click("button[value='goto:snapshot']")
    _swapped(ui, before)
    assert ui.get_attribute("#advanced", "open") is not None  # changed: shown open
    assert ui.input_value("#click_window_days") == "7"
    assert ui.input_value("#lookback_days") == "10"
    assert not ui.is_checked("#include_archived")
    while _step(ui) != "test":
        _next(ui)
    with ui.expect_navigation():
        ui.click("#save")
    saved = service.get_source("advanced", settings=world.settings)
    assert (saved.click_window_days, saved.engagement_window_days, saved.view_window_days) == (
        7,
        30,
        0,
    )
    assert saved.conversion_report_time == "TIME_OF_CONVERSION"
    assert (saved.lookback_days, saved.include_archived) == (10, False)
    assert "Conversion report time" in ui.inner_text("#settings")


def _create_source(world: World, name: str, *, authorizer: str = "demo") -> None:
    from pinads.runner import service

    service.create_source(
        {
            "name": name,
            "dataset": "campaign_analytics",
            "authorizer": authorizer,
            "accounts": [EUR_ADVERTISER_ID],
            "destination": f"duckdb:///{world.tmp}/{name}.duckdb",
        },
        settings=world.settings,
    )


def _delete_source(world: World, name: str) -> None:
    from pinads.runner import service

    service.delete_source(name, settings=world.settings)


CLI_WORDS = re.compile(r"`pinads |--[a-z]+-[a-z]+|allow_empty: true|\bpid \d+")


def _page_language(page: Any) -> None:
    text = page.inner_text("main")
    assert not CLI_WORDS.search(text), text


def test_wrong_secret_on_import_keeps_the_form(ui: Any, world: World) -> None:
    """A refused import went to a generic error page, losing what was typed, with CLI advice
    (--refresh-token)."""
    minted = httpx.post(
        f"{world.emulator.base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}
    ).json()
    ui.goto(f"{world.url}/authorizers/new")
    ui.fill("#imp_client_id", DEMO_CLIENT_ID)
    ui.fill("#imp_client_secret", "not-the-secret")
    ui.fill("#imp_refresh_token", minted["refresh_token"])
    ui.fill("#imp_label", "imported")
    ui.fill("#imp_api_url", world.emulator.api_url)
    with ui.expect_navigation():
        ui.click("button:has-text('Import')")
    assert ui.url == f"{world.url}/authorizers/import"
    error = ui.inner_text("#import-error")
    assert "Pinterest refused the refresh token" in error
    assert "Continue to Pinterest" in error
    _page_language(ui)
    assert ui.input_value("#imp_client_id") == DEMO_CLIENT_ID
    assert ui.input_value("#imp_label") == "imported"
    assert ui.input_value("#imp_api_url") == world.emulator.api_url
    assert ui.input_value("#imp_client_secret") == ""  # secrets are typed again
    assert ui.evaluate("document.activeElement.id") == "imp_client_secret"


def test_wrong_secret_at_the_consent_callback_keeps_the_form(ui: Any, world: World) -> None:
    ui.goto(f"{world.url}/authorizers/new")
    ui.fill("#client_id", DEMO_CLIENT_ID)
    ui.fill("#client_secret", "not-the-secret")
    ui.fill("#label", "wrong")
    ui.click("summary:has-text('Advanced')")
    ui.fill("#api_url", world.emulator.api_url)
    ui.click("text=Continue to Pinterest")
    ui.wait_for_url(f"{world.emulator.base_url}/oauth/**")
    with ui.expect_navigation(url=re.compile(r"/authorizers/callback")):
        ui.click("button:has-text('Approve')")
    assert "Not authorized:" in ui.inner_text("#oauth-error")
    _page_language(ui)
    assert ui.input_value("#client_id") == DEMO_CLIENT_ID
    assert ui.input_value("#label") == "wrong"
    assert ui.input_value("#api_url") == world.emulator.api_url


def test_an_unreachable_api_url_is_answered_by_our_page(ui: Any, world: World) -> None:
    """The browser was sent to the unreachable host's consent page: its own error page."""
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}/v5"
    ui.goto(f"{world.url}/authorizers/new")
    ui.fill("#client_id", DEMO_CLIENT_ID)
    ui.fill("#client_secret", DEMO_CLIENT_SECRET)
    ui.click("summary:has-text('Advanced')")
    ui.fill("#api_url", dead)
    with ui.expect_navigation():
        ui.click("text=Continue to Pinterest")
    assert ui.url == f"{world.url}/authorizers/new"
    assert f"the API URL {dead} did not answer" in ui.inner_text("#oauth-error")
    assert ui.input_value("#api_url") == dead and ui.input_value("#client_id") == DEMO_CLIENT_ID
    assert ui.get_attribute("#oauth-form details", "open") is not None


def test_deleting_an_authorizer_in_use_is_refused_on_its_page(ui: Any, world: World) -> None:
    _create_source(world, "uses_second", authorizer="second")
    try:
        ui.goto(f"{world.url}/authorizers")
        ui.click("#authorizers a:has-text('second')")
        page_url = ui.url
        with ui.expect_navigation():
            ui.click("button:has-text('Delete')")  # the confirm dialog is accepted
        error = ui.inner_text("#authorizer-error")
        assert "is used by source(s) uses_second" in error
        assert ui.inner_text("h1") == "second" and "Edit label" in ui.inner_text("main")
        ui.goto(page_url)  # still there
        assert ui.inner_text("h1") == "second"
    finally:
        _delete_source(world, "uses_second")


def test_backfill_dates_are_checked_before_it_starts(ui: Any, world: World) -> None:
    """The backfill said "started" and then failed for a day before Pinterest's limit."""
    from datetime import UTC, datetime, timedelta

    _create_source(world, "dates")
    try:
        today = datetime.now(UTC).date()
        earliest = today - timedelta(days=914)
        ui.goto(f"{world.url}/sources/dates")
        assert ui.get_attribute("#bf_start", "min") == earliest.isoformat()
        assert earliest.isoformat() in ui.inner_text("#backfill")
        too_early = (earliest - timedelta(days=1)).isoformat()
        ui.fill("#bf_start", too_early)
        ui.click("text=Start backfill")  # the browser refuses it: nothing is sent
        assert ui.evaluate("document.getElementById('bf_start').validity.rangeUnderflow")
        assert ui.url == f"{world.url}/sources/dates"
        # Without the browser's check (an old browser), the server refuses it the same way.
        ui.evaluate("document.getElementById('bf_start').removeAttribute('min')")
        with ui.expect_navigation():
            ui.click("text=Start backfill")
        error = ui.inner_text("#backfill-error")
        assert f"Pinterest keeps this data from {earliest}" in error
        assert ui.input_value("#bf_start") == too_early  # what was typed is kept
        assert ui.locator("[data-job]").count() == 0 and "No run yet" in ui.inner_text("main")
        ui.fill("#bf_start", (today - timedelta(days=20)).isoformat())
        ui.fill("#bf_end", (today - timedelta(days=30)).isoformat())
        with ui.expect_navigation():
            ui.click("text=Start backfill")
        assert "before its start" in ui.inner_text("#backfill-error")
    finally:
        _delete_source(world, "dates")


def test_run_now_during_a_backfill_says_it_is_blocked(ui: Any, world: World) -> None:
    """Run now beside a running backfill showed green "started" and red "already running"
    with a pid and host; history said "No run yet" while the backfill ran."""
    from datetime import UTC, datetime, timedelta

    _create_source(world, "busy")
    try:
        today = datetime.now(UTC).date()
        ui.goto(f"{world.url}/sources/busy")
        ui.fill("#bf_start", (today - timedelta(days=125)).isoformat())
        ui.fill("#bf_end", (today - timedelta(days=123)).isoformat())
        with ui.expect_navigation():
            ui.click("text=Start backfill")
        assert "No run yet" not in ui.inner_text("main")
        assert "running" in ui.inner_text("#runs")
        with ui.expect_navigation():
            ui.click("#run-now")
        message = ui.inner_text("main .flash.warning")
        assert message.startswith("Run now did not start: A backfill of busy has been running")
        assert ui.locator(".flash.success").count() == 0
        _page_language(ui)
        ui.wait_for_selector("[data-job][data-finished]", timeout=60_000)
        assert ui.get_attribute("[data-job]", "data-finished") == "succeeded"
        assert "backfill" in ui.inner_text("#runs")
    finally:
        _delete_source(world, "busy")


def test_sources_list_fits_1280_px_and_names_the_accounts(ui: Any, world: World) -> None:
    """The list overflowed at 1280 px and showed raw account ids."""
    from pinads.errors import PinadsError
    from pinads.runner import service

    empty_account = "549755813003"  # Thistle Outdoor: no product group delivery

    long_name = "a_source_with_a_long_name_for_the_table"
    _create_source(world, long_name)
    service.create_source(
        {
            "name": "refused",
            "dataset": "product_group_analytics",
            "authorizer": "demo",
            "accounts": [empty_account],
            "destination": f"duckdb:///{world.tmp}/refused.duckdb",
            "schedule": {"frequency": "cron", "cron": "15 6 * * 1-5", "timezone": "Europe/Prague"},
        },
        settings=world.settings,
    )
    with pytest.raises(PinadsError):
        service.run("refused", settings=world.settings)  # no rows: a long error
    try:
        with AuthorizerService(world.settings) as authorizers:
            names = {a.id: a.name for a in authorizers.accounts("demo")}
        ui.goto(f"{world.url}/sources")
        table = ui.inner_text("#sources")
        assert names[EUR_ADVERTISER_ID] in table and names[empty_account] in table
        assert EUR_ADVERTISER_ID not in table  # the id is the name's tooltip
        assert "failed" in table
        _page_language(ui)
        widths = ui.evaluate(
            "() => [document.querySelector('#sources').scrollWidth,"
            " document.querySelector('#sources').parentElement.clientWidth,"
            " document.documentElement.scrollWidth]"
        )
        assert widths[0] <= widths[1] and widths[2] <= 1280, widths
    finally:
        for name in (long_name, "refused"):
            _delete_source(world, name)


AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_RUN = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary),
    }));
}"""


def _axe(page: Any, name: str) -> list[str]:
    page.add_script_tag(path=str(AXE))
    return [f"{name}: {v['id']} ({v['impact']}) {v['nodes']}" for v in page.evaluate(AXE_RUN)]


def test_axe_finds_no_violations_on_the_main_pages(world: World, chromium: Any) -> None:
    """axe-core (vendored) on login, sources, each wizard step, a source page with its run
    history, authorizers and the audit log, at 1280 and 390 px."""
    _create_source(world, "axe_source")
    # Its own context: axe is injected as a script, which the pages' policy would refuse.
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    found: list[str] = []
    try:
        page.goto(f"{world.url}/login")
        found += _axe(page, "login")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Log in')")
        page.wait_for_url(f"{world.url}/sources")
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            for path in ("/sources", "/sources/axe_source", "/audit", "/authorizers"):
                page.goto(f"{world.url}{path}")
                found += _axe(page, f"{path} at {width}")
            page.click("#authorizers a:has-text('demo')")
            found += _axe(page, f"authorizer at {width}")
            page.goto(f"{world.url}/authorizers/new")
            found += _axe(page, f"authorizer-new at {width}")
            page.goto(f"{world.url}/sources/new")
            page.fill("#name", f"axe_{width}")
            while True:
                step = _step(page)
                if step == "columns":
                    page.click("details[data-group=spend] summary")
                found += _axe(page, f"wizard {step} at {width}")
                if step == "test":
                    break
                if step == "account":
                    _choose(page, "demo")
                    found += _axe(page, f"wizard accounts at {width}")
                if step == "dataset":
                    page.check("input[name=dataset][value=campaign_analytics]")
                if step == "destination":
                    page.fill("#destination", f"duckdb:///{world.tmp}/axe.duckdb")
                _next(page)
            before = _swaps(page)
            page.click("#test-data")
            _swapped(page, before)
            found += _axe(page, f"wizard test data at {width}")
    finally:
        context.close()
        _delete_source(world, "axe_source")
    assert found == []
