"""Helpers for the API client's tests: a recording transport wrapper and token sink.

The wrapper only observes traffic to the real emulator (it never answers itself), so tests can
check ordering ("saved before used"), headers and call counts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from pinads.api import OAuthApp, TokenSet
from pinads.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorState
from pinads.emulator.tokens import IssuedTokens

IN_PROCESS_API_URL = "http://emulator.test/v5"


@dataclass
class Journal:
    """Ordered events from the transport and the sink, shared across threads."""

    events: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, detail: str) -> None:
        with self.lock:
            self.events.append((kind, detail))

    def requests(self, path_suffix: str = "") -> list[str]:
        with self.lock:
            return [d for k, d in self.events if k == "request" and d.endswith(path_suffix)]


class RecordingTransport(httpx.BaseTransport):
    """Passes every request to `inner`; notes method, path and bearer token (if any)."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        journal: Journal,
        *,
        before: Callable[[httpx.Request], None] | None = None,
    ) -> None:
        self.inner = inner
        self.journal = journal
        self.before = before  # e.g. move the emulator clock when a download starts
        self.sent: list[httpx.Request] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.sent.append(request)
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            self.journal.add("bearer", bearer[7:])
        self.journal.add("request", f"{request.method} {request.url.path}")
        if self.before is not None:
            self.before(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class RecordingSink:
    """A `TokenSink` that keeps every saved token set, in order."""

    def __init__(self, journal: Journal | None = None) -> None:
        self.saved: list[TokenSet] = []
        self.journal = journal or Journal()

    def save(self, tokens: TokenSet) -> None:
        self.journal.add("saved", tokens.access_token.get_secret_value())
        self.saved.append(tokens)


class FakeTime:
    """A monotonic clock that only moves when someone sleeps (budgets and retries in tests
    that must not wait for real); records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def demo_app(api_url: str = IN_PROCESS_API_URL, *, secret: str = DEMO_CLIENT_SECRET) -> OAuthApp:
    return OAuthApp(client_id=DEMO_CLIENT_ID, client_secret=SecretStr(secret), api_url=api_url)


def token_set(issued: IssuedTokens) -> TokenSet:
    return TokenSet(
        access_token=SecretStr(issued.access_token),
        access_expires_at=issued.access_expires_at,
        refresh_token=SecretStr(issued.refresh_token),
        refresh_expires_at=issued.refresh_expires_at,
        scopes=tuple(sorted(issued.scopes)),
    )


@pytest.fixture
def emulator(emulator_app: Starlette) -> EmulatorState:
    state: EmulatorState = emulator_app.state.emulator
    return state


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def recording(emulator_transport: httpx.BaseTransport, journal: Journal) -> RecordingTransport:
    return RecordingTransport(emulator_transport, journal)
