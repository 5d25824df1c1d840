"""Authorize in the browser through this server: consent redirect, then our callback route.

`pinads.auth` runs the flow (state, checks, code exchange, storing) in "paste" mode: its
`announce` hands us the consent URL, and its `paste` waits until Pinterest's redirect reaches
our callback route. The flow runs in a thread per authorization, so the two requests (start,
callback) meet in the middle; a redirect that never comes ends the flow after `FLOW_TTL_SECONDS`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from pinads.auth import Authorizer, CodeFlowOptions
from pinads.errors import AuthError, PinadsError, redact

__all__ = ["FLOW_TTL_SECONDS", "OAuthFlows", "PendingFlow"]

FLOW_TTL_SECONDS = 600.0
_START_TIMEOUT_SECONDS = 30.0
_FINISH_TIMEOUT_SECONDS = 120.0


@dataclass
class PendingFlow:
    user: str
    consent_url: str | None = None
    callback_url: str | None = None
    result: Authorizer | None = None
    error: str | None = None
    url_ready: threading.Event = field(default_factory=threading.Event)
    callback_ready: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def announce(self, url: str, opened: bool) -> None:
        self.consent_url = url
        self.url_ready.set()

    def wait_for_callback(self) -> str:
        if not self.callback_ready.wait(FLOW_TTL_SECONDS) or self.callback_url is None:
            raise AuthError(
                "no redirect from Pinterest's consent page in time: nothing was stored; start "
                "the authorization again"
            )
        return self.callback_url


class OAuthFlows:
    """Authorizations waiting for Pinterest's redirect, keyed by their `state`."""

    def __init__(self) -> None:
        self._flows: dict[str, PendingFlow] = {}
        self._lock = threading.Lock()

    def start(
        self,
        *,
        user: str,
        redirect_uri: str,
        work: Callable[[CodeFlowOptions], Authorizer],
    ) -> str:
        """Run `work` (an AuthorizerService call taking the flow options) and return the
        consent URL to send the browser to; raises the flow's error if it fails before that."""
        flow = PendingFlow(user=user)
        options = CodeFlowOptions(
            announce=flow.announce,
            redirect_uri=redirect_uri,
            paste=flow.wait_for_callback,
            open_browser=False,
            timeout_seconds=FLOW_TTL_SECONDS,
        )
        thread = threading.Thread(target=self._run, args=(flow, work, options), daemon=True)
        thread.start()
        flow.url_ready.wait(_START_TIMEOUT_SECONDS)
        if flow.consent_url is None:
            flow.done.wait(_START_TIMEOUT_SECONDS)
            raise AuthError(flow.error or "the authorization did not start: try again")
        state = parse_qs(urlsplit(flow.consent_url).query).get("state", [""])[0]
        with self._lock:
            self._flows[state] = flow
        return flow.consent_url

    def _run(
        self,
        flow: PendingFlow,
        work: Callable[[CodeFlowOptions], Authorizer],
        options: CodeFlowOptions,
    ) -> None:
        try:
            flow.result = work(options)
        except PinadsError as exc:
            flow.error = redact(str(exc))
        except Exception as exc:  # noqa: BLE001  (a thread's top level: the callback page reports it)
            flow.error = f"unexpected {type(exc).__name__}: {redact(str(exc))}"
        finally:
            flow.url_ready.set()
            flow.done.set()
            self._forget(flow)

    def _forget(self, flow: PendingFlow) -> None:
        with self._lock:
            for state, pending in list(self._flows.items()):
                if pending is flow:
                    del self._flows[state]

    def finish(self, *, state: str, callback_url: str, user: str) -> Authorizer:
        """Hand Pinterest's redirect to the waiting flow and return the saved authorizer."""
        with self._lock:
            flow = self._flows.get(state)
        if flow is None or flow.user != user:
            raise AuthError(
                "this authorization request is unknown or expired (the server restarted, or it "
                "was already used): nothing was stored; start the authorization again"
            )
        flow.callback_url = callback_url
        flow.callback_ready.set()
        if not flow.done.wait(_FINISH_TIMEOUT_SECONDS):
            raise AuthError("the token exchange did not finish in time: try again")
        if flow.result is None:
            raise AuthError(flow.error or "the authorization failed: try again")
        return flow.result

    def shutdown(self) -> None:
        with self._lock:
            flows = list(self._flows.values())
        for flow in flows:
            flow.callback_ready.set()  # callback_url None: the flow ends with its timeout error
