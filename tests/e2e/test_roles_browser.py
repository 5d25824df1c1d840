"""Roles in a real headless Chromium: an admin creates a viewer and an authorizer on the
Users page; each sees only its menu, is refused other pages with a page that says why, and the
admin's changes are on the Audit page."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import CHROMIUM, PASSWORD

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium (apt-get install -y "
        "chromium); browser tests skipped",
    ),
]


def _login(chromium: Any, web_url: str, user: str) -> Any:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{web_url}/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_load_state()
    return page


def _menu(page: Any) -> list[str]:
    return [text.strip() for text in page.locator("header nav a").all_inner_texts()]


def test_roles_in_the_browser(web_url: str, chromium: Any) -> None:
    admin = _login(chromium, web_url, "admin")
    assert _menu(admin) == ["Authorizers", "Sources", "API", "Users", "Notifications", "Audit"]
    admin.click("header nav >> text=Users")
    for name, role in (("vera", "viewer"), ("otto", "authorizer")):
        admin.fill("#username", name)
        admin.fill("#password", PASSWORD)
        admin.select_option("#new-role", role)
        admin.click("button:has-text('Create user')")
        admin.wait_for_selector(f"text=User {name} created ({role}).")
    assert admin.locator("#user-vera td[data-label=Status]").inner_text() == "active"

    viewer = _login(chromium, web_url, "vera")
    assert viewer.url == f"{web_url}/sources"
    assert _menu(viewer) == ["Authorizers", "Sources", "API"]
    answer = viewer.goto(f"{web_url}/users")
    assert answer is not None and answer.status == 403
    assert viewer.inner_text("#error-message") == (
        "your role (viewer) may not manage users, tokens, notifications or read the audit "
        "log: ask an admin for a role that may"
    )
    answer = viewer.goto(f"{web_url}/sources/new")
    assert answer is not None and answer.status == 403

    authorizer = _login(chromium, web_url, "otto")
    authorizer.goto(f"{web_url}/authorizers")
    assert _menu(authorizer) == ["Authorizers", "API"]
    answer = authorizer.goto(f"{web_url}/sources")
    assert answer is not None and answer.status == 403
    answer = authorizer.goto(f"{web_url}/authorizers/new")
    assert answer is not None and answer.status == 200

    admin.select_option("#role-vera", "editor")
    admin.click("#user-vera button:has-text('Set role')")
    admin.wait_for_selector("text=vera is now editor.")
    viewer.goto(f"{web_url}/sources")
    assert _menu(viewer) == ["Authorizers", "Sources", "API"]
    answer = viewer.goto(f"{web_url}/sources/new")
    assert answer is not None and answer.status == 200  # an editor now

    admin.click("#user-vera button:has-text('Disable')")
    admin.wait_for_selector("text=vera disabled")
    viewer.goto(f"{web_url}/sources")
    assert viewer.url.startswith(f"{web_url}/login")  # the session ended with the disabling

    admin.goto(f"{web_url}/audit")
    audit = admin.inner_text("#audit")
    for action in ("user.create", "user.role", "user.disable"):
        assert action in audit
