"""One headless Chromium per test session (per xdist worker), started on first use: each
browser test opens its own context (cookies, storage) in it, which costs milliseconds where a
browser launch costs a second."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pinads.settings import load_settings
from pinads.state import open_control_db
from pinads.web.app import create_app
from pinads.web.users import WebUsers

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "browser-secret-1"  # the admin of `web_url`
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def web_url() -> Iterator[str]:
    """pinads' web app on a loopback port, with user admin/PASSWORD."""
    import uvicorn

    store = WebUsers(open_control_db(load_settings()))
    store.set_user("admin", PASSWORD)
    store.db.close()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(load_settings()), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()
