"""`httpx.Auth` that keeps a Pinterest access token fresh.

- Proactive: refresh when the access token expires within `margin` (default 5 minutes).
- Reactive: on 401 code 2 ("Authentication failed") refresh once and replay the request once.
- Rotation-safe: the new token set goes to `sink.save()` *before* the new access token is used,
  because Pinterest invalidates the previous refresh token as soon as it rotates it.
- Thread-safe: one refresh at a time; threads that were waiting reuse the fresh tokens.

One hazard no client can remove: if Pinterest rotates the refresh token but its answer is lost
(connection reset after the server committed), the old token is dead and the new one unknown;
the next refresh fails with "re-authorize this authorizer".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from datetime import datetime, timedelta

import httpx

from pinads.api.errors import parse_error_body
from pinads.api.models import TokenSet, TokenSink, utc_now
from pinads.errors import AuthError, RetriableApiError

__all__ = ["DEFAULT_REFRESH_MARGIN", "Refresher", "RefreshingTokenAuth"]

log = logging.getLogger(__name__)

DEFAULT_REFRESH_MARGIN = timedelta(minutes=5)
_AUTHENTICATION_FAILED = 2
Refresher = Callable[[TokenSet], TokenSet]


class RefreshingTokenAuth(httpx.Auth):
    """Bearer auth with proactive and reactive refresh; see the module docstring."""

    # False so that successful bodies are streamed by the client instead of buffered by httpx;
    # a 401's (small) body is read here, since its code decides whether to refresh.
    requires_response_body = False

    def __init__(
        self,
        tokens: TokenSet,
        *,
        refresher: Refresher,
        sink: TokenSink,
        clock: Callable[[], datetime] = utc_now,
        margin: timedelta = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        self._tokens = tokens
        self._refresher = refresher
        self._sink = sink
        self._clock = clock
        self._margin = margin
        self._lock = threading.Lock()
        self.refresh_count = 0

    @property
    def tokens(self) -> TokenSet:
        return self._tokens

    def _refresh_locked(self) -> TokenSet:
        now = self._clock()
        if self._tokens.refresh_expired(now=now):
            raise AuthError(
                f"the refresh token expired at {self._tokens.refresh_expires_at:%Y-%m-%d %H:%M} "
                "UTC: re-authorize this authorizer"
            )
        new = self._refresher(self._tokens)
        # Durable first: if saving fails, the new access token is never used.
        self._sink.save(new)
        self._tokens = new
        self.refresh_count += 1
        log.debug("access token refreshed; expires %s", new.access_expires_at.isoformat())
        return new

    def current(self) -> TokenSet:
        """The token set to use now, refreshed first if it is about to expire."""
        tokens = self._tokens
        if not tokens.access_expires_within(self._margin, now=self._clock()):
            return tokens
        with self._lock:
            tokens = self._tokens
            if not tokens.access_expires_within(self._margin, now=self._clock()):
                return tokens
            try:
                return self._refresh_locked()
            except RetriableApiError:
                # Pinterest's token endpoint is briefly unavailable but the access token still
                # works for a few minutes: use it; the next call tries to refresh again.
                if tokens.access_expires_within(timedelta(0), now=self._clock()):
                    raise
                log.warning("token refresh failed transiently; using the current access token")
                return tokens

    def refresh_after_rejection(self, rejected: TokenSet) -> TokenSet:
        """Pinterest refused `rejected`: refresh, unless another thread already did."""
        with self._lock:
            if self._tokens.access_token != rejected.access_token:
                return self._tokens
            return self._refresh_locked()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        tokens = self.current()
        request.headers["Authorization"] = f"Bearer {tokens.access_token.get_secret_value()}"
        response = yield request
        if response.status_code != 401:
            return
        response.read()
        if parse_error_body(response.content).code != _AUTHENTICATION_FAILED:
            return  # e.g. code 3 (missing scope): a new token would not help
        fresh = self.refresh_after_rejection(tokens)
        request.headers["Authorization"] = f"Bearer {fresh.access_token.get_secret_value()}"
        yield request
