"""A PostgreSQL destination's password in a real headless Chromium: typed once in the wizard,
then never in any page's HTML (review step, hidden draft, source page, edit form), the run
connecting with it, and an edit that leaves `***` keeping it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.runner import service as runs
from pinads.settings import load_settings

from .conftest import CHROMIUM

# The browser and server fixtures of the main browser test.
from .test_web_browser import (  # noqa: F401
    _choose_authorizer,
    _login,
    _next,
    _step,
    page,
)

PG = "postgresql://postgres@127.0.0.1:5432/test"
SECRET = "S3cretPass"


def _server_up() -> bool:
    try:
        with psycopg.connect(PG, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(not _server_up(), reason=f"PostgreSQL is not running at {PG}"),
]


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"pinads_browser_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(
            "DO $$ BEGIN CREATE ROLE pinads LOGIN; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
        conn.execute(f'CREATE SCHEMA "{name}" AUTHORIZATION pinads')
    yield name
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _saved_url() -> str:
    shown = runs.get_source("shop", settings=load_settings()).destination
    return runs.saved_destination("shop", shown, settings=load_settings())


def _to_destination(tab: Any) -> None:
    tab.fill("#name", "shop")
    _next(tab)
    tab.check("input[name=dataset][value=campaign_analytics]")
    _next(tab)
    _choose_authorizer(tab, "demo")
    tab.uncheck("input[name=accounts][value=all]")
    tab.check(f"input[name=accounts][value='{EUR_ADVERTISER_ID}']")
    while _step(tab) != "destination":
        _next(tab)


def test_wizard_source_page_and_edit_never_hold_the_password(
    page: Any,  # noqa: F811  (the fixture imported above)
    web_url: str,
    authorizer: str,
    schema: str,
) -> None:
    url = f"postgresql://pinads:{SECRET}@127.0.0.1:5432/test?schema={schema}"
    shown = url.replace(SECRET, "***")
    html: list[str] = []
    _login(page, web_url)
    page.goto(f"{web_url}/sources/new")
    _to_destination(page)
    page.fill("#destination", url)
    _next(page)
    assert _step(page) == "test", page.inner_text("main")
    assert shown in page.inner_text("main")  # the review step
    html.append(page.content())
    with page.expect_navigation():
        page.click("#save")
    assert page.url == f"{web_url}/sources/shop", page.inner_text("main")
    assert shown in page.inner_text("#settings")
    assert _saved_url() == url

    with page.expect_navigation():
        page.click("#run-now")
    page.wait_for_selector("[data-job][data-finished]", timeout=120_000)
    job = page.locator("[data-job]")
    assert job.get_attribute("data-finished") == "succeeded", job.inner_text()
    with psycopg.connect(PG) as conn:
        count = conn.execute(f'SELECT count(*) FROM "{schema}".shop').fetchone()
    assert count is not None and count[0] > 0
    html.append(page.content())

    page.goto(f"{web_url}/sources/shop/edit")
    while _step(page) != "destination":
        _next(page)
    assert page.input_value("#destination") == shown
    html.append(page.content())
    _next(page)
    assert _step(page) == "test", page.inner_text("main")  # checked with the saved password
    with page.expect_navigation():
        page.click("#save")
    assert "Source shop saved." in page.inner_text("main")
    assert _saved_url() == url
    html += [page.content(), page.context.cookies().__repr__()]

    for text in html:
        assert SECRET not in text
