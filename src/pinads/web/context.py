"""What every request of the web app shares: settings, the control DB and what the web keeps
in it (users, sessions, login failures, audit log), the service openers, background jobs and
OAuth flows in progress."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from pinads.api.client import PinterestClient
from pinads.auth import AdAccount, AuthorizerService
from pinads.settings import AppSettings
from pinads.state import Clock, ControlDB, WebSessionRepository
from pinads.state.db import utc_now
from pinads.web.account_names import AccountNames
from pinads.web.audit import AuditLog
from pinads.web.jobs import JobRegistry
from pinads.web.oauth import OAuthFlows
from pinads.web.policy import WebPolicy
from pinads.web.throttle import Throttle
from pinads.web.users import WebUsers

__all__ = ["WebContext"]


@dataclass
class WebContext:
    settings: AppSettings
    db: ControlDB
    policy: WebPolicy = field(default_factory=WebPolicy)
    # Injected in tests to move time (session expiry, login throttling) without sleeping.
    clock: Clock = utc_now
    # Injected in tests (the emulator in-process); None = real HTTP.
    transport: httpx.BaseTransport | None = None
    jobs: JobRegistry = field(default_factory=JobRegistry)
    flows: OAuthFlows = field(default_factory=OAuthFlows)
    account_names: AccountNames = field(default_factory=AccountNames)

    def __post_init__(self) -> None:
        self.users = WebUsers(self.db)
        self.sessions = WebSessionRepository(
            self.db.engine, idle=self.policy.idle, lifetime=self.policy.lifetime, clock=self.clock
        )
        self.throttle = Throttle(self.db.login_failures, self.policy, self.clock)
        self.audit = AuditLog(self.db.audit, self.clock)

    def authorizers(self) -> AuthorizerService:
        return AuthorizerService(self.settings, transport=self.transport)

    def list_accounts(self, authorizer: str) -> list[AdAccount]:
        """The authorizer's ad accounts (from Pinterest), remembered for the pages' names."""
        with self.authorizers() as service:
            accounts = service.accounts(authorizer)
        self.account_names.remember(authorizer, accounts)
        return accounts

    def open_client(self, authorizer: str) -> PinterestClient:
        """The runner's ClientOpener: the authorizer's client via pinads.auth."""
        service = self.authorizers()
        client = service.open_client(authorizer)
        # The client owns no reference to the service; close its DB when the client closes.
        original_close = client.close

        def close() -> None:
            try:
                original_close()
            finally:
                service.close()

        client.close = close  # type: ignore[method-assign]
        return client

    def close(self) -> None:
        self.jobs.shutdown()
        self.flows.shutdown()
        self.db.close()
