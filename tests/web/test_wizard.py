"""The Create Source wizard over HTTP forms: every step in order, problems shown on the step,
Test Data rows and diagnoses, Save, Edit, Add new account round trip."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.runner import service as runs
from pinads.settings import load_settings

from .conftest import Browser

_DRAFT = re.compile(r'name="draft" value="([^"]*)"')


def draft_of(page: str) -> str:
    found = _DRAFT.search(page)
    assert found, "no wizard draft in the page"
    return html.unescape(found.group(1))


class Wizard:
    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.page: str = browser.client.get("/sources/new").text

    def step(self) -> str:
        found = re.search(r'name="step" value="([a-z]+)"', self.page)
        assert found
        return found.group(1)

    def post(self, nav: str = "next", **fields: Any) -> str:
        editing = "1" if 'name="editing" value="1"' in self.page else "0"
        data = {
            "draft": draft_of(self.page),
            "step": self.step(),
            "nav": nav,
            "editing": editing,
            **fields,
        }
        response = self.browser.post_form("/sources/new", data)
        self.page = response.text
        self.status = response.status_code
        return self.page


def walk_to_test(wizard: Wizard, tmp_path: Path, *, accounts: list[str] | None = None) -> None:
    wizard.post(name="shop")
    assert wizard.step() == "dataset"
    wizard.post(nav="search", q="SPEND_IN_MICRO_DOLLAR")
    assert 'value="campaign_analytics"' in wizard.page
    wizard.post(dataset="campaign_analytics")
    assert wizard.step() == "account"
    wizard.post(nav="refresh", authorizer="demo")
    assert EUR_ADVERTISER_ID in wizard.page and "roles:" in wizard.page
    wizard.post(accounts=accounts or [EUR_ADVERTISER_ID])
    assert wizard.step() == "columns"
    wizard.post(
        granularity="DAY",
        attributes=["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "CAMPAIGN_NAME"],
        metrics=["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CLICKTHROUGH_1"],
    )
    assert wizard.step() == "metadata", wizard.page
    wizard.post(metadata=["extracted_at", "source_name", "run_id", "account_currency"])
    assert wizard.step() == "snapshot"
    wizard.post(
        frequency="daily",
        show_advanced="1",
        at="06:30",
        timezone="Europe/Prague",
        date_range="last_7_days",
    )
    assert wizard.step() == "destination", wizard.page
    wizard.post(destination=f"duckdb:///{tmp_path}/shop.duckdb", write_mode="upsert")
    assert wizard.step() == "test"


def test_whole_wizard_test_data_save_and_run(
    browser: Browser, authorizer: str, tmp_path: Path
) -> None:
    wizard = Wizard(browser)
    assert wizard.step() == "connector"
    walk_to_test(wizard, tmp_path)
    wizard.post(nav="test")
    assert 'data-diagnosis="data"' in wizard.page, wizard.page
    assert 'id="preview-table"' in wizard.page and "campaign_name" in wizard.page
    response = browser.post_form(
        "/sources/new",
        {"draft": draft_of(wizard.page), "step": "test", "nav": "save", "editing": "0"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/sources/shop"
    config = runs.get_source("shop", settings=load_settings())
    assert config.accounts == (EUR_ADVERTISER_ID,)
    assert config.schedule is not None and config.schedule.describe().startswith("daily at 06:30")
    assert config.metrics == ("SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CLICKTHROUGH_1")
    detail = browser.client.get("/sources/shop").text
    assert "Run history" in detail and "Europe/Prague" in detail
    listing = browser.client.get("/sources").text
    assert "campaign_analytics" in listing and "never" in listing


def test_step_problems_block_next(browser: Browser, authorizer: str, tmp_path: Path) -> None:
    wizard = Wizard(browser)
    wizard.post(name="Bad Name")
    assert wizard.step() == "connector" and "is not a valid source name" in wizard.page
    wizard.post(name="shop")
    wizard.post()
    assert wizard.step() == "dataset" and "choose a dataset" in wizard.page
    wizard.post(dataset="campaign_analytics")
    wizard.post()
    assert wizard.step() == "account" and "choose an authorizer" in wizard.page
    wizard.post(nav="refresh", authorizer="demo")
    wizard.post(accounts=["all"])
    wizard.post(
        granularity="HOUR", attributes=["DATE", "CAMPAIGN_ID"], metrics=["TOTAL_CONVERSIONS"]
    )
    assert wizard.step() == "columns" and 'id="continue-anyway"' in wizard.page
    wizard.post(
        nav="force",
        granularity="HOUR",
        attributes=["DATE", "CAMPAIGN_ID"],
        metrics=["TOTAL_CONVERSIONS"],
    )
    assert wizard.step() == "metadata"
    wizard.post(nav="back")
    assert wizard.step() == "columns"


def test_snapshot_and_destination_problems(browser: Browser, authorizer: str) -> None:
    wizard = Wizard(browser)
    for fields in ({"name": "shop"}, {"dataset": "campaigns"}):
        wizard.post(**fields)
    wizard.post(nav="refresh", authorizer="demo")
    wizard.post(accounts=["all"])
    wizard.post(attributes=["ID", "NAME"])
    wizard.post(metadata=["extracted_at"])
    wizard.post(frequency="daily", show_advanced="1", at="06:00", timezone="Mars/Olympus")
    assert wizard.step() == "snapshot" and "Mars/Olympus" in wizard.page
    wizard.post(frequency="cron", show_advanced="1", timezone="UTC")
    assert wizard.step() == "snapshot" and "cron expression" in wizard.page
    wizard.post(frequency="manual", allow_empty="1")
    assert wizard.step() == "destination"
    wizard.post(destination="nosuch://x")
    assert wizard.step() == "destination" and 'role="alert"' in wizard.page


@pytest.mark.parametrize(
    ("fields", "diagnosis"),
    [
        ({"test_start": "2019-01-01", "test_end": "2019-01-07"}, "range_too_large"),
    ],
)
def test_test_data_diagnosis(
    browser: Browser, authorizer: str, tmp_path: Path, fields: dict[str, str], diagnosis: str
) -> None:
    wizard = Wizard(browser)
    walk_to_test(wizard, tmp_path)
    wizard.post(nav="test", **fields)
    assert f'data-diagnosis="{diagnosis}"' in wizard.page, wizard.page


def test_add_new_account_returns_to_the_wizard(browser: Browser, authorizer: str) -> None:
    wizard = Wizard(browser)
    wizard.post(name="shop")
    wizard.post(dataset="campaigns")
    response = browser.post_form(
        "/sources/new",
        {
            "draft": draft_of(wizard.page),
            "step": "account",
            "nav": "refresh",
            "authorizer": "__new__",
            "editing": "0",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/authorizers/new?next=/sources/new%3Fresume%3D1"
    page = browser.client.get(response.headers["location"]).text
    assert 'name="next" value="/sources/new?resume=1"' in page
    # What the OAuth callback does after saving: back to the account step, authorizer chosen.
    back = browser.client.get("/sources/new?resume=1&authorizer=demo").text
    assert 'name="step" value="account"' in back
    assert '<option value="demo" selected>' in back and "shop" in draft_of(back)


def test_edit_walks_the_saved_config(browser: Browser, authorizer: str, tmp_path: Path) -> None:
    runs.create_source(
        {
            "name": "shop",
            "dataset": "campaigns",
            "authorizer": authorizer,
            "destination": f"duckdb:///{tmp_path}/x.duckdb",
        },
        settings=load_settings(),
    )
    page = browser.client.get("/sources/shop/edit").text
    assert 'name="editing" value="1"' in page and "readonly" in page
    wizard = Wizard(browser)
    wizard.page = page
    for _ in range(6):
        wizard.post()
    assert wizard.step() == "destination", wizard.page
    wizard.post(destination=f"duckdb:///{tmp_path}/x.duckdb", write_mode="replace")
    response = browser.post_form(
        "/sources/new",
        {"draft": draft_of(wizard.page), "step": "test", "nav": "save", "editing": "1"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert runs.get_source("shop", settings=load_settings()).write_mode.value == "replace"


def test_dataset_search_by_metric_says_what_matched(browser: Browser) -> None:
    wizard = Wizard(browser)
    wizard.post(name="shop")
    page = wizard.post(nav="search", q="TOTAL_CHECKOUT")
    shown = re.findall(r'<label class="check" data-dataset="([a-z_]+)" >', page)
    hidden = re.findall(r'<label class="check" data-dataset="([a-z_]+)" hidden>', page)
    assert "campaign_analytics" in shown and "campaigns" in hidden  # all there, for typing
    found = re.search(r'<span id="dataset-count">(\d+)</span>', page)
    assert found is not None and int(found.group(1)) == len(shown)
    assert "matches metrics: TOTAL_CHECKOUT" in page
    none = wizard.post(nav="search", q="nothing-like-this")
    assert re.search(r'<p id="no-dataset" >\s*No dataset matches', none)


def test_ticked_accounts_win_over_the_default_all(browser: Browser, authorizer: str) -> None:
    wizard = Wizard(browser)
    wizard.post(name="shop")
    wizard.post(dataset="campaigns")
    wizard.post(nav="refresh", authorizer="demo")
    wizard.post(accounts=["all", EUR_ADVERTISER_ID])
    assert wizard.step() == "columns"
    assert json.loads(draft_of(wizard.page))["accounts"] == [EUR_ADVERTISER_ID]
    wizard.post(nav="back")
    wizard.post(accounts=["all"])
    assert json.loads(draft_of(wizard.page))["accounts"] == "all"


def test_no_authorizer_yet_points_to_add_new_account(browser: Browser) -> None:
    wizard = Wizard(browser)
    wizard.post(name="shop")
    page = wizard.post(dataset="campaigns")
    assert 'id="no-authorizer"' in page and "Add new account…" in page
    options = re.findall(r"<option value=\"([^\"]*)\"", page)
    assert options[-1] == "__new__"  # at the bottom of the drop-down


def test_cron_needs_no_advanced_settings(browser: Browser, authorizer: str) -> None:
    wizard = Wizard(browser)
    for fields in ({"name": "shop"}, {"dataset": "campaigns"}):
        wizard.post(**fields)
    wizard.post(nav="refresh", authorizer="demo")
    wizard.post(accounts=["all"])
    wizard.post(attributes=["ID", "NAME"])
    wizard.post(metadata=["extracted_at"])
    wizard.post(frequency="cron", cron="0 6 * * 1-5")
    assert wizard.step() == "destination", wizard.page
    schedule = json.loads(draft_of(wizard.page))["schedule"]
    assert schedule["cron"] == "0 6 * * 1-5" and schedule["timezone"] == "UTC"


def test_step_names_jump_back_and_forward_past_steps_without_problems(
    browser: Browser, authorizer: str, tmp_path: Path
) -> None:
    wizard = Wizard(browser)
    walk_to_test(wizard, tmp_path)
    assert 'value="goto:columns"' in wizard.page  # done steps are links
    wizard.post(nav="goto:columns")
    assert wizard.step() == "columns"
    assert 'value="goto:destination"' not in wizard.page  # not yet reached in this walk
    wizard.post(nav="goto:snapshot", granularity="HOUR", metrics=["TOTAL_CONVERSIONS"])
    # The columns' problem stops the jump on the columns step, explained.
    assert wizard.step() == "columns" and "TOTAL_CONVERSIONS" in wizard.page
    wizard.post(nav="goto:snapshot", granularity="DAY", metrics=["SPEND_IN_MICRO_DOLLAR"])
    assert wizard.step() == "snapshot"


def test_edit_saves_from_any_step(browser: Browser, authorizer: str, tmp_path: Path) -> None:
    runs.create_source(
        {
            "name": "shop",
            "dataset": "campaigns",
            "authorizer": authorizer,
            "destination": f"duckdb:///{tmp_path}/x.duckdb",
        },
        settings=load_settings(),
    )
    wizard = Wizard(browser)
    wizard.page = browser.client.get("/sources/shop/edit").text
    assert 'value="goto:snapshot"' in wizard.page  # every step reachable when editing
    wizard.post(nav="goto:snapshot")
    assert wizard.step() == "snapshot" and 'id="save-now"' in wizard.page
    response = browser.post_form(
        "/sources/new",
        {
            "draft": draft_of(wizard.page),
            "step": "snapshot",
            "editing": "1",
            "nav": "save",
            "frequency": "daily",
            "date_range": "last_7_days",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    saved = runs.get_source("shop", settings=load_settings())
    assert saved.schedule is not None and saved.schedule.describe() == "daily at 00:00 UTC"


def test_save_lists_each_problem_on_its_own_line(browser: Browser, authorizer: str) -> None:
    draft = {"name": "shop", "dataset": "campaigns", "authorizer": "nope", "metrics": ["X"]}
    page = browser.post_form(
        "/sources/new",
        {"draft": json.dumps(draft), "step": "test", "nav": "save", "editing": "0"},
    ).text
    items = re.findall(r"<li>(.*?)</li>", page.split('id="step-problems"')[1].split("</ul>")[0])
    assert items[0] == "source &#39;shop&#39; is not valid:"
    assert any(i.startswith("authorizer: no authorizer &#39;nope&#39;") for i in items)
    # The service's CLI advice, in the pages' words.
    assert "on the Authorizers page (Authorize new service)" in page
    assert "`pinads auth add`" not in page


def test_an_account_the_authorizer_cannot_see_points_to_the_account_step(
    browser: Browser, authorizer: str
) -> None:
    draft = {
        "name": "shop",
        "dataset": "campaign_analytics",
        "authorizer": authorizer,
        "accounts": ["999999999999"],
    }
    page = browser.post_form(
        "/sources/new",
        {"draft": json.dumps(draft), "step": "test", "nav": "save", "editing": "0"},
    ).text
    assert "ad account 999999999999 is not visible to authorizer" in page
    assert f"see the Account step for authorizer {authorizer}" in page
    assert "pinads accounts" not in page


def test_dataddo_write_mode_names_are_saved_as_pinads_modes(
    browser: Browser, authorizer: str, tmp_path: Path
) -> None:
    runs.create_source(
        {
            "name": "shop",
            "dataset": "campaigns",
            "authorizer": authorizer,
            "destination": f"duckdb:///{tmp_path}/x.duckdb",
        },
        settings=load_settings(),
    )
    wizard = Wizard(browser)
    wizard.page = browser.client.get("/sources/shop/edit").text
    for _ in range(6):
        wizard.post()
    assert wizard.step() == "destination", wizard.page
    wizard.post(destination=f"duckdb:///{tmp_path}/x.duckdb", write_mode="Truncate Insert")
    assert json.loads(draft_of(wizard.page))["write_mode"] == "replace"
    response = browser.post_form(
        "/sources/new",
        {"draft": draft_of(wizard.page), "step": "test", "nav": "save", "editing": "1"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert runs.get_source("shop", settings=load_settings()).write_mode.value == "replace"
