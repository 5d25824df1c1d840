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
from pinads.web import WebStore, create_app

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
    store = WebStore(settings)
    store.set_user("admin", PASSWORD)
    store.close()
    with EmulatorServer(EmulatorConfig(seed=7)) as emulator:
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
def ui(logged_in: Any) -> Any:
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
