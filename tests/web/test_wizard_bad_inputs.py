"""The wizard refuses what `sources create` and the API refuse, with the same checks
(pinads.sources): bad destination URLs at the destination step, oversized bodies with 413."""

from __future__ import annotations

import pytest

from pinads.runner import service as runs
from pinads.settings import load_settings

from .conftest import Browser
from .test_wizard import Wizard


def _walk_to_destination(wizard: Wizard) -> None:
    wizard.post(name="shop")
    wizard.post(dataset="campaigns")
    wizard.post(nav="refresh", authorizer="demo")
    wizard.post(accounts=["all"])
    wizard.post(attributes=["ID", "NAME"])
    wizard.post(metadata=["extracted_at"])
    wizard.post(frequency="manual")
    assert wizard.step() == "destination", wizard.page


@pytest.mark.parametrize(
    ("destination", "said"),
    [
        ("duckdb://relative.duckdb", "three slashes"),
        ("duckdb:///data/x.duckdb?threads=0", "threads"),
        ("file:///data/out?format=xlsx", "format"),
        ("file:///../../some/dir?format=csv", "destination"),
        ("postgresql://u:pw@host:port/db", "destination"),
    ],
    ids=["relative", "threads", "format", "traversal", "postgres-port"],
)
def test_destination_step_refuses_what_create_refuses(
    browser: Browser, authorizer: str, destination: str, said: str
) -> None:
    wizard = Wizard(browser)
    _walk_to_destination(wizard)
    wizard.post(destination=destination, write_mode="upsert")
    assert wizard.step() == "destination"
    assert 'role="alert"' in wizard.page and said in wizard.page
    assert "pw@" not in wizard.page
    assert runs.list_sources(settings=load_settings()) == []


def test_a_form_body_over_one_mib_is_refused(browser: Browser) -> None:
    response = browser.post_form("/sources/new", {"draft": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "larger than 1024 KiB" in response.text
