"""A PostgreSQL destination's password over the web: the JSON API (create, list, get, replace,
run) and the pages (sources list, source detail, edit form, every wizard step after the
destination, the wizard's hidden draft) show `***`, never the password; it is not in PINADS_HOME's
files; `***` sent back keeps it; a run connects with it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from pinads.emulator import EUR_ADVERTISER_ID
from pinads.runner import service as runs
from pinads.settings import load_settings

from .conftest import Browser
from .test_wizard import Wizard, draft_of

PG = "postgresql://postgres@127.0.0.1:5432/test"
SECRET = "S3cretPass"


def _server_up() -> bool:
    try:
        with psycopg.connect(PG, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


# Every test here runs with a SQLite and a PostgreSQL control DB (tests/conftest.py).
pytestmark = [
    pytest.mark.skipif(not _server_up(), reason=f"PostgreSQL is not running at {PG}"),
    pytest.mark.usefixtures("control_db_backend"),
]


@pytest.fixture
def schema() -> Iterator[str]:
    """A fresh schema owned by role `pinads` (trust auth takes any password: the test proves
    the stored one round-trips, see `_saved_url`)."""
    name = f"pinads_webcreds_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(
            "DO $$ BEGIN CREATE ROLE pinads LOGIN; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
        conn.execute(f'CREATE SCHEMA "{name}" AUTHORIZATION pinads')
    yield name
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _urls(schema: str) -> tuple[str, str]:
    url = f"postgresql://pinads:{SECRET}@127.0.0.1:5432/test?schema={schema}"
    return url, url.replace(SECRET, "***")


def _saved_url(name: str = "shop") -> str:
    """The clear URL the runner will use (`***` resolved against the saved source)."""
    shown = runs.get_source(name, settings=load_settings()).destination
    return runs.saved_destination(name, shown, settings=load_settings())


def _source(destination: str) -> dict[str, Any]:
    return {
        "name": "shop",
        "dataset": "campaign_analytics",
        "authorizer": "demo",
        "accounts": [EUR_ADVERTISER_ID],
        "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
        "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
        "date_range": "last_7_days",
        "destination": destination,
    }


def _wait(client: TestClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    for _ in range(600):
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def test_api_never_returns_the_password_and_keeps_it_on_replace(
    client: TestClient,
    api_token: str,
    authorizer: str,
    schema: str,
    stored_bytes: Callable[[], bytes],
) -> None:
    headers = {"Authorization": f"Bearer {api_token}"}
    url, shown = _urls(schema)
    answers = []
    refused = client.post("/api/sources", headers=headers, json=_source(shown))
    assert refused.status_code == 400
    assert "has *** for its password but no stored value" in refused.json()["detail"]

    created = client.post("/api/sources", headers=headers, json=_source(url))
    assert created.status_code == 201, created.text
    assert created.json()["config"]["destination"] == shown
    answers += [created.text]
    listed = client.get("/api/sources", headers=headers)
    assert listed.json()[0]["config"]["destination"] == shown
    single = client.get("/api/sources/shop", headers=headers)
    assert single.json()["config"]["destination"] == shown
    answers += [listed.text, single.text]
    assert _saved_url() == url

    started = client.post("/api/sources/shop/run", headers=headers)
    job = _wait(client, headers, started.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["result"]["destination"] == shown
    with psycopg.connect(PG) as conn:
        count = conn.execute(f'SELECT count(*) FROM "{schema}".shop').fetchone()
    assert count is not None and count[0] == job["result"]["rows_written"] > 0
    answers += [str(job), client.get("/api/sources/shop/runs", headers=headers).text]

    kept = client.put(
        "/api/sources/shop", headers=headers, json={**_source(shown), "schedule": "daily 06:00"}
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["config"]["destination"] == shown
    assert _saved_url() == url
    moved = client.put(
        "/api/sources/shop", headers=headers, json=_source(shown.replace("127.0.0.1", "localhost"))
    )
    assert moved.status_code == 400
    assert "server or user changed: type its password again" in moved.json()["detail"]
    replaced = client.put(
        "/api/sources/shop", headers=headers, json=_source(url.replace(SECRET, "N3wPass"))
    )
    assert replaced.status_code == 200, replaced.text
    assert _saved_url() == url.replace(SECRET, "N3wPass")
    answers += [kept.text, moved.text, replaced.text]

    for text in answers:
        assert SECRET not in text and "N3wPass" not in text
    home = stored_bytes()
    assert SECRET.encode() not in home and b"N3wPass" not in home


def _walk_to_destination(wizard: Wizard) -> None:
    wizard.post(name="shop")
    wizard.post(dataset="campaign_analytics")
    wizard.post(authorizer="demo", accounts=[EUR_ADVERTISER_ID])
    wizard.post(
        granularity="DAY",
        attributes=["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
        metrics=["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
    )
    wizard.post(metadata=["extracted_at", "source_name", "run_id"])
    wizard.post(frequency="manual", date_range="last_7_days")
    assert wizard.step() == "destination", wizard.page


def _save(browser: Browser, wizard: Wizard, editing: str) -> None:
    response = browser.post_form(
        "/sources/new",
        {"draft": draft_of(wizard.page), "step": "test", "nav": "save", "editing": editing},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/sources/shop"


def test_pages_and_wizard_never_show_the_password(
    browser: Browser, authorizer: str, schema: str, stored_bytes: Callable[[], bytes]
) -> None:
    url, shown = _urls(schema)
    wizard = Wizard(browser)
    _walk_to_destination(wizard)
    pages = [wizard.post(destination=url, write_mode="upsert")]
    assert wizard.step() == "test", wizard.page  # the destination was checked with the password
    assert shown in wizard.page  # the review lists it redacted
    assert SECRET not in draft_of(wizard.page)
    pages.append(wizard.post(nav="back"))  # the destination step's own form
    assert f'value="{shown}"' in wizard.page
    pages.append(wizard.post(destination=shown, write_mode="upsert"))
    assert wizard.step() == "test", wizard.page
    _save(browser, wizard, "0")
    assert _saved_url() == url

    pages += [browser.client.get(path).text for path in ("/sources", "/sources/shop")]
    assert shown in pages[-1]  # the detail page (the list shows no destinations)
    edit = Wizard(browser)
    edit.page = browser.client.get("/sources/shop/edit").text
    pages.append(edit.page)
    pages.append(edit.post(nav="goto:destination"))
    assert f'value="{shown}"' in edit.page
    pages.append(edit.post(destination=shown, write_mode="upsert"))
    assert edit.step() == "test", edit.page  # checked with the saved password
    _save(browser, edit, "1")
    assert _saved_url() == url

    for page in pages:
        assert SECRET not in page
    assert SECRET.encode() not in stored_bytes()
