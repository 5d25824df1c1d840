"""The web UI in a real headless Chromium: log in, authorize through the emulator's consent
page, walk the whole Create Source wizard (a screenshot per step), Test Data shows rows, save,
run, and the rows are in DuckDB; then each Test Data diagnosis triggered from the wizard."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pinads.emulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EUR_ADVERTISER_ID,
    FINANCE_ONLY_ADVERTISER_ID,
    EmulatorServer,
)

from .conftest import CHROMIUM, PASSWORD

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
NO_PRODUCT_GROUPS_ACCOUNT = "549755813003"  # Thistle Outdoor: no product group delivery

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at "
        "/usr/bin/chromium (apt-get install -y chromium); browser tests skipped",
    ),
]


@pytest.fixture
def page(web_url: str, chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.on("dialog", lambda dialog: dialog.accept())
    yield tab
    context.close()


def _login(page: Any, web_url: str, *, check: bool = False) -> None:
    page.goto(f"{web_url}/sources")
    if check:
        _check_page(page, "login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{web_url}/sources")


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


UNLABELLED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea')].filter(
    el => !el.closest('label') && el.labels.length === 0).map(el => el.name || el.id)"""


# Cells of list tables that end beyond the phone's width (a table scrolled sideways hides
# the last run and the warnings: on phones each row is a card instead).
CUT_CELLS = """() => [...document.querySelectorAll('table.stack td')].filter(
    td => td.getBoundingClientRect().right > document.documentElement.clientWidth + 1
).map(td => td.dataset.label)"""


# Boxes whose content runs out sideways (CSS columns in a height-limited box put most of a
# long checklist out of sight): only tables and code may scroll sideways. A 1-pixel box is
# the visually hidden pattern (a default button for Enter), not content.
SIDEWAYS = """() => [...document.querySelectorAll('main *')].filter(el => {
    const style = getComputedStyle(el);
    return ['auto', 'scroll', 'hidden'].includes(style.overflowX) && el.clientWidth > 1
        && el.scrollWidth > el.clientWidth + 1 && !el.closest('.table-wrap, pre')
        && !['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}).map(el => el.id || el.className || el.tagName)"""


def _check_page(page: Any, name: str) -> None:
    """Every field labelled; no horizontal overflow at 390 px, no list table cut off, no box
    hiding content sideways; screenshots at both widths."""
    assert page.evaluate(UNLABELLED) == [], name
    assert page.evaluate(SIDEWAYS) == [], name
    _shot(page, name)
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate("document.documentElement.scrollWidth")
    cut = page.evaluate(CUT_CELLS)
    sideways = page.evaluate(SIDEWAYS)
    _shot(page, f"{name}-390px")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert overflow <= 390, f"{name} is {overflow} px wide at 390 px"
    assert cut == [], f"{name}: cells {cut} cut off at 390 px"
    assert sideways == [], f"{name}: {sideways} hide content sideways at 390 px"


def _submit(page: Any, selector: str) -> None:
    """Press a wizard button and wait for the step its answer shows (the steps are posted in
    the background and swapped in: no navigation to wait for)."""
    before = int(page.get_attribute("main", "data-swap") or 0)
    page.click(selector)
    page.wait_for_selector(f"main[data-swap='{before + 1}']")


def _next(page: Any) -> None:
    _submit(page, "#next")


def _choose_authorizer(page: Any, label: str) -> None:
    """Choose an authorizer: its accounts are listed in place (no submit, no navigation)."""
    before = int(page.get_attribute("main", "data-swap") or 0)
    page.select_option("#authorizer", label)
    page.wait_for_selector(f"main[data-swap='{before + 1}']")


def _step(page: Any) -> str:
    return str(page.get_attribute("#wizard", "data-step"))


def _authorize_in_browser(page: Any, web_url: str, emulator: EmulatorServer) -> None:
    """From the wizard's *Add new account*: our form, the emulator's consent page, and back
    to the wizard's account step with the new authorizer chosen."""
    page.select_option("#authorizer", "__new__")
    assert _step(page) == "account"  # choosing it changes nothing until Next is pressed
    with page.expect_navigation():
        page.click("#next")
    assert page.url.startswith(f"{web_url}/authorizers/new?next=")
    _check_page(page, "authorizer-new")
    page.fill("#client_id", DEMO_CLIENT_ID)
    page.fill("#client_secret", DEMO_CLIENT_SECRET)
    page.fill("#label", "demo")
    page.click("summary:has-text('Advanced')")
    page.fill("#api_url", emulator.api_url)
    page.click("text=Continue to Pinterest")
    page.wait_for_url(f"{emulator.base_url}/oauth/**")
    _shot(page, "emulator-consent")
    page.click("button:has-text('Approve')")
    page.wait_for_url(f"{web_url}/sources/new?resume=1&authorizer=demo")
    assert "Authorizer demo saved." in page.inner_text("main")
    assert _step(page) == "account" and page.input_value("#authorizer") == "demo"


def _authorizer_pages(page: Any) -> None:
    page.click("text=Authorizers")
    _check_page(page, "authorizers")
    page.click("#authorizers a:has-text('demo')")
    with page.expect_navigation():
        page.click("button:has-text('Test')")
    assert "Test passed" in page.inner_text("#test-report")
    _check_page(page, "authorizer-detail")


def _walk_wizard(page: Any, tmp_path: Path, *, shots: bool, authorize: Any = None) -> None:
    from playwright.sync_api import expect

    def check(name: str) -> None:
        if shots:
            _check_page(page, name)

    page.click("text=Sources")
    page.click("text=Create Source")
    assert _step(page) == "connector"
    page.fill("#name", "shop")
    check("wizard-1-connector")
    _next(page)
    assert _step(page) == "dataset"
    # Typing narrows the list at once, and says which metrics made each dataset match.
    total = int(page.inner_text("#dataset-count"))
    page.type("#q", "TOTAL_CHECKOUT")
    # Polled from here: a string predicate would be evaluated in the page, which its
    # Content-Security-Policy forbids (no eval).
    expect(page.locator("#dataset-count")).not_to_have_text(str(total))
    assert page.is_hidden("label[data-dataset=campaigns]")
    reason = page.inner_text("label[data-dataset=campaign_analytics] .why")
    assert reason.startswith("matches metrics: TOTAL_CHECKOUT")
    page.fill("#q", "SPEND_IN_MICRO_DOLLAR")
    _submit(page, "#search")
    page.check("input[name=dataset][value=campaign_analytics]")
    check("wizard-2-dataset")
    _next(page)
    assert _step(page) == "account"
    options = page.eval_on_selector_all("#authorizer option", "os => os.map(o => o.value)")
    assert options[-1] == "__new__"  # Add new account, at the bottom
    if authorize is not None:
        authorize()  # Add new account, and back here with the name and dataset kept
    else:
        _choose_authorizer(page, "demo")
    # Ticking one account unticks "All": what is ticked is what runs.
    page.check(f"input[name=accounts][value='{EUR_ADVERTISER_ID}']")
    assert not page.is_checked("input[name=accounts][value=all]")
    check("wizard-3-account")
    _next(page)
    assert _step(page) == "columns"
    page.check("input[name=attributes][value=CAMPAIGN_NAME]")
    page.fill("#column-search", "spend")
    assert page.is_hidden("input[name=metrics][value=IMPRESSION_1]")
    page.fill("#column-search", "")
    check("wizard-4-columns")
    _next(page)
    assert _step(page) == "metadata", page.inner_text("main")
    page.check("input[name=metadata][value=account_currency]")
    check("wizard-5-metadata")
    _next(page)
    assert _step(page) == "snapshot"
    page.select_option("#frequency", "daily")
    assert page.is_hidden("#at")
    page.check("#show_advanced")
    assert page.is_visible("#at") and page.is_visible("#timezone")
    assert page.is_hidden("#weekday") and page.is_hidden("#cron")  # not for daily runs
    page.fill("#at", "06:30")
    page.fill("#timezone", "Europe/Prague")
    page.fill("#date_range", "last_7_days")
    check("wizard-6-snapshot")
    _next(page)
    assert _step(page) == "destination", page.inner_text("main")
    page.fill("#destination", f"duckdb:///{tmp_path}/web.duckdb")
    page.check("input[name=write_mode][value=upsert]")
    check("wizard-7-destination")
    _next(page)
    assert _step(page) == "test"


def test_authorize_walk_wizard_test_data_save_run(
    page: Any, web_url: str, emulator_server: EmulatorServer, tmp_path: Path
) -> None:
    _login(page, web_url, check=True)
    _walk_wizard(
        page,
        tmp_path,
        shots=True,
        authorize=lambda: _authorize_in_browser(page, web_url, emulator_server),
    )
    _submit(page, "#test-data")
    assert page.get_attribute("#preview", "data-diagnosis") == "data"
    shown = page.locator("#preview-table tbody tr").count()
    assert shown > 0
    assert "campaign_name" in page.inner_text("#preview-table thead")
    _check_page(page, "wizard-8-test-data")
    with page.expect_navigation():
        page.click("#save")
    assert page.url == f"{web_url}/sources/shop"
    assert "Source shop saved." in page.inner_text("main")
    with page.expect_navigation():
        page.click("#run-now")
    page.wait_for_selector("[data-job][data-finished]", timeout=120_000)
    job = page.locator("[data-job]")
    assert job.get_attribute("data-finished") == "succeeded", job.inner_text()
    text = job.locator(".job-text").inner_text()
    rows = int(text.removeprefix("done: ").split(" rows")[0].replace(",", ""))
    assert rows > 0
    # The run history card was fetched again when the run ended: no reload needed.
    assert "manual" in page.inner_text("#runs") and "succeeded" in page.inner_text("#runs")
    with duckdb.connect(str(tmp_path / "web.duckdb"), read_only=True) as con:
        stored = con.execute(
            "SELECT count(*), count(DISTINCT ad_account_id), min(_pinads_account_currency) "
            "FROM shop"
        ).fetchone()
    assert stored == (rows, 1, "EUR")
    _check_page(page, "source-detail")
    _backfill_with_live_progress(page)
    _authorizer_pages(page)
    page.click("text=Sources")
    _check_page(page, "sources")
    assert "daily at 06:30 Europe/Prague" in page.inner_text("#sources")
    assert "succeeded" in page.inner_text("#sources td[data-label='Last run']")
    page.goto(f"{web_url}/api/docs")
    _check_page(page, "api-docs")
    page.goto(f"{web_url}/sources/shop/edit")
    _check_page(page, "edit")
    page.goto(f"{web_url}/sources/nope")
    assert "open Sources to see yours" in page.inner_text("#error-message")
    _check_page(page, "error")
    page.goto(f"{web_url}/sources/shop")
    with page.expect_navigation():
        page.click("button:has-text('Delete')")  # the confirm dialog is accepted
    assert "Source shop deleted" in page.inner_text("main")
    assert "No source yet." in page.inner_text("main")


def _backfill_with_live_progress(page: Any) -> None:
    today = datetime.now(UTC).date()
    page.fill("#bf_start", (today - timedelta(days=125)).isoformat())
    page.fill("#bf_end", (today - timedelta(days=123)).isoformat())
    with page.expect_navigation():
        page.click("text=Start backfill")
    box = page.locator("[data-job]")
    assert "Backfill" in box.locator("h2").inner_text()
    page.wait_for_selector("[data-job][data-finished]", timeout=120_000)
    assert box.get_attribute("data-finished") == "succeeded", box.inner_text()
    assert box.locator(".job-text").inner_text().startswith("done: ")
    assert page.locator("progress").evaluate("bar => bar.value === bar.max")
    assert "backfill" in page.inner_text("#runs")
    _check_page(page, "source-backfill")


def _to_test(page: Any, web_url: str, *, dataset: str, account: str, columns: Any) -> None:
    page.goto(f"{web_url}/sources/new")
    page.fill("#name", "diag")
    _next(page)
    page.check(f"input[name=dataset][value={dataset}]")
    _next(page)
    _choose_authorizer(page, "demo")
    page.uncheck("input[name=accounts][value=all]")
    page.check(f"input[name=accounts][value='{account}']")
    _next(page)
    columns(page)
    while _step(page) != "test":
        _next(page)


def _diagnosis(page: Any, name: str, *, start: str = "", end: str = "") -> str:
    if start:
        page.fill("#test_start", start)
        page.fill("#test_end", end)
    _submit(page, "#test-data")
    _shot(page, f"diagnosis-{name}")
    assert page.is_visible("#preview-message")
    return str(page.get_attribute("#preview", "data-diagnosis"))


def _keep(page: Any) -> None:
    _next(page)


def _hourly_conversions(page: Any) -> None:
    page.select_option("#granularity", "HOUR")
    page.check("input[name=attributes][value=HOUR]")
    page.fill("#column-search", "TOTAL_CONVERSIONS")
    page.check("input[name=metrics][value=TOTAL_CONVERSIONS]")
    page.wait_for_selector("#selection-problems:not([hidden])")
    assert "conversion" in page.inner_text("#selection-problems")  # explained as it is made
    _next(page)
    _submit(page, "#continue-anyway")


def _misspelt_metric(page: Any) -> None:
    page.fill("#more_columns", "SPEND_IN_MICRO_DOLAR")
    _next(page)
    _submit(page, "#continue-anyway")


def test_each_test_data_diagnosis_from_the_wizard(page: Any, web_url: str, authorizer: str) -> None:
    _login(page, web_url)
    analytics = {"dataset": "campaign_analytics", "account": EUR_ADVERTISER_ID}

    _to_test(page, web_url, **analytics, columns=_keep)
    assert _diagnosis(page, "data") == "data"
    assert _diagnosis(page, "range_too_large", start="2019-01-01", end="2019-01-07") == (
        "range_too_large"
    )
    assert "too large or too old" in page.inner_text("#preview-message")

    _to_test(
        page,
        web_url,
        dataset="campaign_analytics",
        account=FINANCE_ONLY_ADVERTISER_ID,
        columns=_keep,
    )
    assert _diagnosis(page, "insufficient_permissions") == "insufficient_permissions"
    assert "FINANCE_MANAGER" in page.inner_text("#preview-message")

    _to_test(page, web_url, **analytics, columns=_misspelt_metric)
    assert _diagnosis(page, "invalid_selection") == "invalid_selection"
    assert "did you mean SPEND_IN_MICRO_DOLLAR" in page.inner_text("#preview-message")

    _to_test(page, web_url, **analytics, columns=_hourly_conversions)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    # One recent day, so HOUR's short reach is not the (more fundamental) range problem.
    found = _diagnosis(page, "incompatible_combination", start=yesterday, end=yesterday)
    assert found == "incompatible_combination"
    assert "returns no conversion metrics" in page.inner_text("#preview-message")

    _to_test(
        page,
        web_url,
        dataset="product_group_analytics",
        account=NO_PRODUCT_GROUPS_ACCOUNT,
        columns=_keep,
    )
    assert _diagnosis(page, "empty_range") == "empty_range"
    assert "truly empty" in page.inner_text("#preview-message")


def _serve_html(html: str) -> tuple[str, Any]:
    """A second loopback server (another port, so another origin) serving one HTML page."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = html.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


def test_a_page_from_another_origin_cannot_frame_pinads(page: Any, web_url: str) -> None:
    """Clickjacking: another site frames the login page and overlays its own buttons."""
    frame = f'<iframe id="victim" src="{web_url}/login" width="800" height="600"></iframe>'
    other, server = _serve_html(f"<!doctype html>{frame}")
    try:
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text))
        page.goto(other)
        page.wait_for_load_state("load")
        framed = [f for f in page.frames if f is not page.main_frame]
        assert len(framed) == 1
        # Chromium replaces a refused frame's document by its error page: no login form.
        assert not framed[0].url.startswith(web_url)
        assert framed[0].query_selector("#username") is None
        assert any("frame-ancestors" in text or "X-Frame-Options" in text for text in refused)
    finally:
        server.shutdown()
    # The same page opened directly works.
    page.goto(f"{web_url}/login")
    assert page.query_selector("#username") is not None
