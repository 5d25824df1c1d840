"""OAuth 2.0 authorization-code flow from a terminal.

Two ways to receive Pinterest's redirect:
- a loopback callback server (127.0.0.1, a random port unless `redirect_uri` names one) that
  takes exactly one redirect carrying `code` or `error`; the consent URL is printed and, when
  possible, opened in the browser;
- paste mode (`--no-browser`, remote machines): the user opens the printed URL anywhere and
  pastes the URL the browser was redirected to (its page will not load; the address is enough).

The `state` parameter is random per attempt and compared in constant time; the code is
exchanged only after every check passed, so a failure stores nothing.
"""

from __future__ import annotations

import html
import logging
import secrets
import threading
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

import httpx

from pinads.api import OAuthApp, TokenSet, consent_url, exchange_code
from pinads.errors import AuthError, ConfigError

__all__ = [
    "DEFAULT_PASTE_REDIRECT_URI",
    "DEFAULT_SCOPES",
    "CallbackServer",
    "code_from_redirect",
    "run_code_flow",
]

log = logging.getLogger(__name__)

DEFAULT_SCOPES: tuple[str, ...] = ("ads:read", "user_accounts:read")
# Pinterest accepts only redirect URIs registered on the app, so with Pinterest's own API pinads
# uses this fixed one (register it once); paste mode uses it too (nothing has to listen on it).
# Other API URLs (the emulator) accept any loopback port: a random free one is used.
DEFAULT_PASTE_REDIRECT_URI = "http://127.0.0.1:8085/callback"
_PINTEREST_HOSTS = frozenset({"api.pinterest.com", "api-sandbox.pinterest.com"})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_NOTHING_STORED = "nothing was stored"


class _Handler(BaseHTTPRequestHandler):
    server: _CallbackHTTPServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path != self.server.expected_path or not ({"code", "error"} & query.keys()):
            self.send_error(404)
            return
        ok = "code" in query
        text = (
            "pinads received the authorization. You can close this tab."
            if ok
            else f"Authorization failed: {query['error'][0]}. You can close this tab."
        )
        body = f"<!doctype html><title>pinads</title><p>{html.escape(text)}</p>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.deliver(self.server.base + self.path)

    def log_message(self, format: str, *args: object) -> None:
        # The default writes the request line (with the code) to stderr: never.
        log.debug("callback server: %s", self.command)


class _CallbackHTTPServer(HTTPServer):
    def __init__(self, address: tuple[str, int], *, path: str, scheme_host: str) -> None:
        super().__init__(address, _Handler)
        self.expected_path = path
        self.base = scheme_host
        self.received: str | None = None
        self.event = threading.Event()

    def deliver(self, url: str) -> None:
        if self.received is None:  # only the first redirect counts
            self.received = url
            self.event.set()


def _loopback_address(redirect_uri: str) -> tuple[str, int, str]:
    parts = urlsplit(redirect_uri)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or host not in _LOOPBACK_HOSTS:
        raise ConfigError(
            f"the redirect URI {redirect_uri} is not a loopback http URL, so pinads cannot "
            "receive it: use --no-browser and paste the redirect URL instead"
        )
    bind = "::1" if host in {"::1", "[::1]"} else "127.0.0.1"
    return bind, parts.port or 80, parts.path or "/"


class CallbackServer:
    """A one-shot loopback HTTP server for the OAuth redirect (runs in a thread)."""

    def __init__(self, redirect_uri: str | None = None) -> None:
        if redirect_uri is None:
            bind, port, path = "127.0.0.1", 0, "/callback"
        else:
            bind, port, path = _loopback_address(redirect_uri)
        try:
            self._server = _CallbackHTTPServer((bind, port), path=path, scheme_host="")
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {bind}:{port} for the redirect ({exc.strerror}): free the "
                "port or pass another --redirect-uri"
            ) from exc
        actual_port = self._server.server_address[1]
        self.redirect_uri = redirect_uri or f"http://127.0.0.1:{actual_port}{path}"
        parts = urlsplit(self.redirect_uri)
        self._server.base = f"{parts.scheme}://{parts.netloc}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def wait(self, timeout_seconds: float) -> str:
        """The full redirect URL, or AuthError after `timeout_seconds`."""
        if not self._server.event.wait(timeout_seconds):
            raise AuthError(
                f"no redirect from Pinterest's consent page within {timeout_seconds:.0f} s: "
                f"{_NOTHING_STORED}; run the command again (or use --no-browser and paste the URL)"
            )
        assert self._server.received is not None
        return self._server.received


def code_from_redirect(url: str, *, expected_state: str) -> str:
    """The authorization code in Pinterest's redirect, after checking `state` and `error`."""
    query = parse_qs(urlsplit(url.strip()).query)
    error = query.get("error", [""])[0]
    if error == "access_denied":
        raise AuthError(
            "the authorization was denied on Pinterest's consent page (access_denied): "
            f"{_NOTHING_STORED}; run the command again and choose to allow access"
        )
    if error:
        described = query.get("error_description", [""])[0]
        raise AuthError(
            f"Pinterest's consent page returned the error {error}"
            + (f" ({described})" if described else "")
            + f": {_NOTHING_STORED}; check the app's redirect URI and scopes and try again"
        )
    state = query.get("state", [""])[0]
    if not secrets.compare_digest(state.encode(), expected_state.encode()):
        raise AuthError(
            "the redirect's state does not match this authorization request (a stale or "
            f"forged redirect): {_NOTHING_STORED}; run the command again and use the new URL"
        )
    codes = query.get("code", [])
    if len(codes) != 1 or not codes[0]:
        raise AuthError(
            "the redirect URL has no authorization code: paste the full URL from the browser's "
            f"address bar; {_NOTHING_STORED}"
        )
    return codes[0]


def _open_browser(url: str) -> bool:
    try:
        return webbrowser.open(url, new=2)
    except webbrowser.Error:
        return False


def run_code_flow(
    app: OAuthApp,
    *,
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
    announce: Callable[[str, bool], None],
    redirect_uri: str | None = None,
    paste: Callable[[], str] | None = None,
    open_browser: bool = True,
    timeout_seconds: float = 300,
    transport: httpx.BaseTransport | None = None,
) -> TokenSet:
    """Consent URL -> redirect (loopback server, or `paste()` when given) -> checked code ->
    tokens. `announce(url, opened)` shows the consent URL to the user."""
    state = secrets.token_urlsafe(24)
    if redirect_uri is None and urlsplit(app.api_url).hostname in _PINTEREST_HOSTS:
        redirect_uri = DEFAULT_PASTE_REDIRECT_URI
    if paste is not None:
        uri = redirect_uri or DEFAULT_PASTE_REDIRECT_URI
        announce(consent_url(app, redirect_uri=uri, scopes=scopes, state=state), False)
        received = paste()
    else:
        with CallbackServer(redirect_uri) as server:
            uri = server.redirect_uri
            url = consent_url(app, redirect_uri=uri, scopes=scopes, state=state)
            announce(url, open_browser and _open_browser(url))
            received = server.wait(timeout_seconds)
    code = code_from_redirect(received, expected_state=state)
    return exchange_code(app, code=code, redirect_uri=uri, transport=transport)
