"""`PinterestClient`: one `httpx.Client` per run with auth refresh, budgets, retries, paging.

Every API call goes through `_call`: take a permit from the rate budget of the call's category,
send (the auth refreshes the token when needed), map errors through the one table in
`pinads.api.errors`, and retry transient failures within the retry policy's bounds.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import IO, Any, Self

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field

from pinads.api.errors import error_from_response, safe_url, transport_error
from pinads.api.http import (
    COMMA_JOINED_PARAMS,
    DEFAULT_HEADERS,
    DEFAULT_TIMEOUT,
    borrow,
    encode_params,
    install_log_redaction,
    plain_client,
)
from pinads.api.models import OAuthApp, TokenSet, TokenSink, utc_now
from pinads.api.oauth import post_token_form
from pinads.api.ratelimit import RateBudgets, SlidingWindowBudgets, category_for
from pinads.api.retry import Retrier, RetryPolicy, Sleep
from pinads.api.token_auth import DEFAULT_REFRESH_MARGIN, RefreshingTokenAuth
from pinads.errors import (
    ConfigError,
    ExtractError,
    FatalApiError,
    PinadsError,
    RateLimitedError,
    RetriableApiError,
)

__all__ = [
    "COMMA_JOINED_PARAMS",
    "MAX_PAGE_SIZE",
    "ClientStats",
    "PinterestClient",
    "encode_params",
]

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 250
_ACCOUNT_IN_PATH = re.compile(r"/ad_accounts/(\d+)")
_RETRIABLE_TRANSPORT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


# orjson reserves memory for a whole document before building its objects (~12x the text: an
# 8.5 MB analytics answer peaked at 123 MB), so large arrays of rows are parsed in slices.
_SLICE_BYTES = 1 << 20

Body = bytes | bytearray
"""An answer's body as read (`_read_body` fills a bytearray; orjson, `find` and slicing read
either in place)."""


def json_slices(content: Body) -> Iterator[bytes] | None:
    """A large JSON array of objects as smaller JSON arrays of its rows (~1 MB each), cut where
    one object ends and the next begins (`},{`); None for a small body or anything else. A cut
    that is not between rows (inside a string or a nested value) leaves a slice that is not
    valid JSON: whoever parses the slices must then parse the whole document instead."""
    end = len(content) - 1
    if end < _SLICE_BYTES or not (content.startswith(b"[{") and content.endswith(b"}]")):
        return None

    def slices() -> Iterator[bytes]:
        view = memoryview(content)
        start = 1
        while start < end:
            cut = content.find(b"},{", start + _SLICE_BYTES, end)
            stop = end if cut < 0 else cut + 1
            yield b"[" + view[start:stop] + b"]"
            start = stop + 1  # past the comma

    return slices()


def loads_in_slices(content: Body) -> Any:
    """`orjson.loads(content)`, a large array of rows parsed a slice at a time (`json_slices`);
    the result is always orjson's."""
    slices = json_slices(content)
    if slices is None:
        return orjson.loads(content)
    rows: list[Any] = []
    try:
        for piece in slices:
            rows.extend(orjson.loads(piece))
    except orjson.JSONDecodeError:
        return orjson.loads(content)
    return rows


Decoder = Callable[[Body], Any]
"""Turns a successful answer's body into the call's result; raises `orjson.JSONDecodeError` for
a body that is not JSON (retried as a truncated answer)."""


def _decode(content: Body, what: str, status: int, request_id: str | None, decode: Decoder) -> Any:
    if not content:
        return None
    try:
        return decode(content)
    except orjson.JSONDecodeError as exc:
        raise RetriableApiError(
            f"Pinterest's answer to {what} was not valid JSON (truncated?)",
            status=status,
            request_id=request_id,
        ) from exc


def _read_body(response: httpx.Response) -> Body:
    """The streamed body in one growing buffer: `b"".join` of the chunks would hold the chunks
    and their joined copy at once (two copies of a multi-megabyte answer at its peak)."""
    buffer = bytearray()
    for chunk in response.iter_bytes():
        buffer += chunk
    return buffer


class ClientStats(BaseModel):
    """What a client did so far: run history shows these."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    calls_by_category: dict[str, int] = Field(default_factory=dict)
    rate_limited_responses: int = Field(default=0, description="429s (and throttles) received.")
    retries: int = 0
    waited_seconds: float = Field(default=0.0, description="Retry waits plus budget waits.")
    budget_waited_seconds: float = 0.0
    refreshes: int = 0
    downloads: int = 0

    @property
    def calls(self) -> int:
        return sum(self.calls_by_category.values())


class PinterestClient:
    """A Pinterest API v5 client for one authorizer and one run (thread-safe)."""

    def __init__(
        self,
        app: OAuthApp,
        tokens: TokenSet,
        sink: TokenSink,
        *,
        transport: httpx.BaseTransport | None = None,
        budgets: RateBudgets | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Callable[[], datetime] = utc_now,
        refresh_margin: timedelta = DEFAULT_REFRESH_MARGIN,
        continuous_refresh: bool = True,
    ) -> None:
        install_log_redaction()
        self.app = app
        self._budgets: RateBudgets = budgets or SlidingWindowBudgets()
        self._clock = clock
        self._continuous_refresh = continuous_refresh
        self._lock = threading.Lock()
        self._stats = ClientStats()
        # No Authorization header on this one: token refreshes (Basic auth) and report
        # downloads (pre-signed URLs that must not see our token) go through it.
        self._plain = plain_client(transport, timeout)
        self._auth = RefreshingTokenAuth(
            tokens, refresher=self._refresh, sink=sink, clock=clock, margin=refresh_margin
        )
        self._http = httpx.Client(
            base_url=app.api_url,
            transport=borrow(transport),
            timeout=timeout,
            headers=DEFAULT_HEADERS,
        )
        self.sleep = sleep
        self._retrier = Retrier(retry, sleep=sleep, on_wait=self._on_wait)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()
        self._plain.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- state -----------------------------------------------------------------------------

    @property
    def tokens(self) -> TokenSet:
        """The current token set (after any refresh)."""
        return self._auth.tokens

    @property
    def budgets(self) -> RateBudgets:
        """The rate budgets this client draws from (shared with other clients of the same
        Pinterest user and app in this process when opened through an authorizer)."""
        return self._budgets

    @property
    def stats(self) -> ClientStats:
        with self._lock:
            return self._stats.model_copy(update={"refreshes": self._auth.refresh_count})

    def _bump(self, **deltas: float | int) -> None:
        with self._lock:
            update = {k: getattr(self._stats, k) + v for k, v in deltas.items()}
            self._stats = self._stats.model_copy(update=update)

    def _count_call(self, category: str, budget_waited: float) -> None:
        with self._lock:
            calls = dict(self._stats.calls_by_category)
            calls[category] = calls.get(category, 0) + 1
            self._stats = self._stats.model_copy(
                update={
                    "calls_by_category": calls,
                    "budget_waited_seconds": self._stats.budget_waited_seconds + budget_waited,
                    "waited_seconds": self._stats.waited_seconds + budget_waited,
                }
            )

    def _on_wait(self, error: RetriableApiError, seconds: float) -> None:
        log.info("retrying in %.1f s after: %s", seconds, error.message)
        self._bump(retries=1, waited_seconds=seconds)

    # -- token refresh ---------------------------------------------------------------------

    def _refresh(self, tokens: TokenSet) -> TokenSet:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token.get_secret_value(),
        }
        if self._continuous_refresh:
            form["continuous_refresh"] = "true"
        permit = self._budgets.acquire("org_read")
        self._count_call("org_read", permit.waited_seconds)
        try:
            return post_token_form(
                self._plain,
                self.app,
                form,
                grant="refresh_token",
                now=self._clock(),
                previous_refresh_token=tokens.refresh_token,
            )
        finally:
            self._budgets.settle(permit)

    # -- calls -----------------------------------------------------------------------------

    def _exchange(
        self, method: str, path: str, params: httpx.QueryParams, body: Any
    ) -> tuple[httpx.Response, Body]:
        """Send once; the response (closed) and its body. Bodies are streamed into our own
        buffer rather than kept on the response, because httpx responses sit in reference
        cycles: a body stored on one would live until the next full garbage collection."""
        request = self._http.build_request(method, path, params=params, json=body)
        try:
            response = self._http.send(request, auth=self._auth, stream=True)
            try:
                content = _read_body(response) if response.is_success else response.read()
            finally:
                response.close()
        except _RETRIABLE_TRANSPORT_ERRORS as exc:
            raise transport_error(
                f"Pinterest did not answer {method} {path} ({type(exc).__name__}): "
                "check the network and the authorizer's API URL",
                exc,
            ) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.ProxyError) as exc:
            raise ConfigError(
                f"cannot call {method} {safe_url(self.app.api_url + path)} "
                f"({type(exc).__name__}): check the authorizer's API URL and proxy settings"
            ) from exc
        except httpx.HTTPError as exc:
            raise FatalApiError(
                f"calling {method} {path} failed ({type(exc).__name__}): {exc}"
            ) from exc
        return response, content

    def _send_once(
        self,
        method: str,
        path: str,
        params: httpx.QueryParams,
        body: Any,
        decode: Decoder = loads_in_slices,
    ) -> Any:
        """One call within the budget: the decoded JSON, or the mapped error raised."""
        category = category_for(method, path)
        permit = self._budgets.acquire(category)
        self._count_call(category, permit.waited_seconds)
        started = time.perf_counter()
        try:
            response, content = self._exchange(method, path, params, body)
        finally:
            self._budgets.settle(permit)
        request_id = response.headers.get("x-pinterest-rid")
        log.debug(
            "%s %s -> %s in %.0f ms (rid %s)",
            method,
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
            request_id or "-",
        )
        if response.is_success:
            return _decode(content, f"{method} {path}", response.status_code, request_id, decode)
        match = _ACCOUNT_IN_PATH.search(path)
        error = error_from_response(response, ad_account_id=match.group(1) if match else None)
        if isinstance(error, RateLimitedError):
            self._bump(rate_limited_responses=1)
            if error.retry_after_seconds is not None:
                # Every thread of the run waits, not only the one that was told.
                self._budgets.pause(category, error.retry_after_seconds)
        raise error

    def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any,
        decode: Decoder = loads_in_slices,
    ) -> Any:
        encoded = encode_params(params)
        return self._retrier.call(lambda: self._send_once(method, path, encoded, body, decode))

    def get_json(
        self, path: str, params: Mapping[str, Any] | None = None, *, decode: Decoder | None = None
    ) -> Any:
        """GET `path` (relative to the API URL) and return the decoded JSON; `decode` lets a
        caller turn a large body into its own form (the extraction builds Arrow slice by
        slice, never holding every row as a Python dict)."""
        return self._call("GET", path, params, None, decode or loads_in_slices)

    def post_json(self, path: str, body: Any, *, params: Mapping[str, Any] | None = None) -> Any:
        """POST a JSON body to `path` and return the decoded JSON answer."""
        return self._call("POST", path, params, body)

    def iter_items(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int | None = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a bookmark-paginated list. A bookmark seen twice raises
        `ExtractError` instead of looping forever. `page_size=None` leaves it out (for
        unpaginated lists such as conversion tags)."""
        query = dict(params or {})
        if page_size is not None:
            query["page_size"] = page_size
        seen: set[str] = set()
        while True:
            payload = self.get_json(path, query)
            items = payload.get("items") if isinstance(payload, dict) else None
            if not isinstance(items, list):
                raise ExtractError(
                    f"Pinterest's answer to GET {path} has no `items` list: report this to "
                    "pinads with the request id from the debug log"
                )
            for item in items:
                if not isinstance(item, dict):
                    raise ExtractError(f"an item of GET {path} is not an object: {item!r:.80}")
                yield item
            bookmark = payload.get("bookmark")
            if not bookmark:
                return
            if bookmark in seen:
                raise ExtractError(
                    f"Pinterest returned the same page bookmark twice for GET {path}: stopped to "
                    "avoid an endless loop; retry later"
                )
            seen.add(bookmark)
            query["bookmark"] = bookmark

    def user_account(self) -> dict[str, Any]:
        """The token user's account (`GET /user_account`; needs `user_accounts:read`)."""
        payload = self.get_json("/user_account")
        if not isinstance(payload, dict):
            raise ExtractError("Pinterest's /user_account answer is not an object")
        return payload

    def ad_accounts(self, *, include_shared_accounts: bool = True) -> list[dict[str, Any]]:
        """Every ad account the token user can see (own and, by default, shared ones)."""
        params = {"include_shared_accounts": include_shared_accounts}
        return list(self.iter_items("/ad_accounts", params))

    # -- downloads -------------------------------------------------------------------------

    def _download_once(self, url: str, sink: IO[bytes]) -> int:
        sink.seek(0)
        sink.truncate()
        written = 0
        try:
            with self._plain.stream("GET", url) as response:
                if response.is_error:
                    response.read()
                    raise self._download_error(url, response)
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    written += len(chunk)
        except _RETRIABLE_TRANSPORT_ERRORS as exc:
            raise transport_error(
                f"the download from {safe_url(url)} failed ({type(exc).__name__})", exc
            ) from exc
        self._bump(downloads=1)
        return written

    @staticmethod
    def _download_error(url: str, response: httpx.Response) -> PinadsError:
        where = safe_url(url)
        if response.status_code >= 500:
            return RetriableApiError(
                f"the download from {where} failed with HTTP {response.status_code}; retrying",
                status=response.status_code,
            )
        return FatalApiError(
            f"the download from {where} was refused with HTTP {response.status_code} "
            "(the link may have expired)",
            status=response.status_code,
        )

    def download(self, url: str, sink: IO[bytes]) -> int:
        """Stream `url` into `sink` WITHOUT the Authorization header (report links are
        pre-signed); transient failures are retried. Returns the number of bytes written."""
        return self._retrier.call(lambda: self._download_once(url, sink))
