"""Helpers for the authorizer tests: drive the emulator's consent page like a browser would,
run the CLI in a subprocess, and an authorizer service bound to the in-process emulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from pinads.auth import AuthorizerService
from pinads.emulator import DEMO_CLIENT_SECRET, InProcessTransport
from pinads.emulator.tokens import IssuedTokens, TokenStore

IN_PROCESS_API_URL = "http://emulator.test/v5"


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields[str(values["name"])] = values.get("value") or ""


def consent_redirect(consent_url: str, *, decision: str = "approve") -> str:
    """GET the consent page, submit its form like a browser, return the redirect Location."""
    page = httpx.get(consent_url, timeout=10)
    assert page.status_code == 200, page.text
    form = _Form()
    form.feed(page.text)
    assert {"client_id", "redirect_uri", "state", "scope"} <= form.fields.keys()
    parts = urlsplit(consent_url)
    action = urlunsplit((parts.scheme, parts.netloc, "/oauth/", "", ""))
    answer = httpx.post(
        action,
        content=urlencode({**form.fields, "decision": decision}),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def with_state(location: str, state: str) -> str:
    parts = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = state
    return urlunsplit(parts._replace(query=urlencode(query)))


def advance_emulator_clock(base_url: str, seconds: int) -> None:
    answer = httpx.post(f"{base_url}/_emulator/clock", json={"advance_seconds": seconds})
    assert answer.status_code == 200, answer.text


class CliProcess:
    """`python -m pinads ...` with piped stdio; reads stdout until the consent URL shows."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pinads", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "200", **env},
        )
        self.seen: list[str] = []

    def consent_url(self) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.seen.append(line)
            if re.match(r"^https?://\S+/oauth/\?", line.strip()):
                return line.strip()
        self.finish()
        raise AssertionError(f"no consent URL printed: {''.join(self.seen)}")

    def finish(self, stdin: str = "") -> tuple[int, str, str]:
        out, err = self.proc.communicate(stdin, timeout=60)
        return self.proc.returncode, "".join(self.seen) + out, err


@pytest.fixture
def cli_env(emulator_server: object) -> dict[str, str]:
    # BROWSER=true: webbrowser "opens" the URL with /bin/true, so no real browser starts.
    return {"PINADS_CLIENT_SECRET": DEMO_CLIENT_SECRET, "BROWSER": "true"}


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[IssuedTokens]]:
    """Every token pair the emulator issues during the test (the emulator's own bookkeeping is
    observed, not pinads')."""
    seen: list[IssuedTokens] = []
    original = TokenStore.mint

    def recording(self: TokenStore, *args: Any, **kwargs: Any) -> IssuedTokens:
        tokens = original(self, *args, **kwargs)
        seen.append(tokens)
        return tokens

    monkeypatch.setattr(TokenStore, "mint", recording)
    yield seen


@pytest.fixture
def service(emulator_transport: InProcessTransport) -> Iterator[AuthorizerService]:
    svc = AuthorizerService(transport=emulator_transport)
    yield svc
    svc.close()
