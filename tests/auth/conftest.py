"""Helpers for the authorizer tests: drive the emulator's consent page like a browser would,
run the CLI in a subprocess, and an authorizer service bound to the in-process emulator."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import IO, Any
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
    """`python -m pinads ...` with piped stdio. Threads read stdout and stderr as they come
    (a file iterator's read-ahead would otherwise swallow what follows the consent URL, such
    as the paste prompt, before `communicate` reads the pipe)."""

    TIMEOUT_SECONDS = 120  # generous: the machine may be shared with other test runs

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
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._err: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout,), daemon=True),
            threading.Thread(target=self._err.extend, args=(self.proc.stderr,), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def consent_url(self) -> str:
        while (line := self._lines.get(timeout=self.TIMEOUT_SECONDS)) is not None:
            self.seen.append(line)
            if re.match(r"^https?://\S+/oauth/\?", line.strip()):
                return line.strip()
        self.finish()
        raise AssertionError(f"no consent URL printed: {''.join(self.seen)}")

    def finish(self, stdin: str = "") -> tuple[int, str, str]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(stdin)
            self.proc.stdin.close()
        except BrokenPipeError:  # it already exited
            pass
        code = self.proc.wait(self.TIMEOUT_SECONDS)
        for reader in self._readers:
            reader.join(self.TIMEOUT_SECONDS)
        while (line := self._lines.get_nowait()) is not None:
            self.seen.append(line)
        return code, "".join(self.seen), "".join(self._err)


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
