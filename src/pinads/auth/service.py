"""`AuthorizerService`: add (code flow or refresh token), list, get, rename, test, reauthorize,
revoke, delete, accounts, and `open_client` whose token sink persists every rotation."""

from __future__ import annotations

import builtins
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

import httpx
from pydantic import SecretStr, ValidationError

from pinads.api import (
    PRODUCTION_API_URL,
    STANDARD_TIER,
    TRIAL_TIER,
    OAuthApp,
    PinterestClient,
    RateBudgets,
    RateLimits,
    TokenSet,
    refresh_tokens,
    shared_budgets,
)
from pinads.api.models import utc_now
from pinads.api.redis_budget import redis_budgets
from pinads.auth.accounts import AdAccount
from pinads.auth.flow import DEFAULT_SCOPES, run_code_flow
from pinads.auth.models import (
    REFRESH_WARNING,
    Authorizer,
    RevokeResult,
    TestReport,
    check_label,
    label_from_username,
)
from pinads.auth.operations import identify, revoke_at_pinterest, run_checks
from pinads.auth.tokens import DbTokenSink, app_of, seal_tokens, tokens_of
from pinads.errors import AuthError, ConfigError
from pinads.settings import AppSettings, load_settings
from pinads.state import (
    AuthorizerRecord,
    ControlDB,
    NewAuthorizer,
    open_control_db,
)
from pinads.state.secretbox import SecretBox

__all__ = ["OPEN_REFRESH_MARGIN", "AuthorizerService", "CodeFlowOptions", "open_client"]

log = logging.getLogger(__name__)

# Refresh at open when the access token expires this soon, so a run rarely refreshes midway.
OPEN_REFRESH_MARGIN = timedelta(hours=1)
RATE_TIERS = {"standard": STANDARD_TIER, "trial": TRIAL_TIER}
AuthorizerRef = Authorizer | str | int


class CodeFlowOptions:
    """How to run the consent step (see `pinads.auth.flow.run_code_flow`)."""

    def __init__(
        self,
        *,
        announce: Callable[[str, bool], None],
        redirect_uri: str | None = None,
        paste: Callable[[], str] | None = None,
        open_browser: bool = True,
        timeout_seconds: float = 300,
    ) -> None:
        self.announce = announce
        self.redirect_uri = redirect_uri
        self.paste = paste
        self.open_browser = open_browser
        self.timeout_seconds = timeout_seconds


class AuthorizerService:
    """Authorizers stored encrypted in the control DB of `settings`."""

    def __init__(
        self,
        settings: AppSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings or load_settings()
        self.transport = transport
        self._clock = clock
        self._db: ControlDB | None = None
        self._box: SecretBox | None = None

    # -- plumbing --------------------------------------------------------------------------

    @property
    def db(self) -> ControlDB:
        if self._db is None:
            self._db = open_control_db(self.settings)
        return self._db

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox.from_settings(self.settings)
        return self._box

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _view(self, record: AuthorizerRecord) -> Authorizer:
        return Authorizer.from_record(record, self)

    def _record(self, ref: AuthorizerRef) -> AuthorizerRecord:
        key = ref.id if isinstance(ref, Authorizer) else ref
        return self.db.authorizers.find(key)

    # -- adding ----------------------------------------------------------------------------

    def _free_label(self, label: str | None, username: str | None) -> str:
        if label is not None:
            return check_label(label)
        base = label_from_username(username)
        taken = set(self.db.authorizers.labels())
        candidates = [base, *(f"{base}-{n}" for n in range(2, 1000))]
        return next(c for c in candidates if c not in taken)

    def _check_label_free(self, label: str | None) -> None:
        if label is not None and self.db.authorizers.find_optional(check_label(label)):
            raise ConfigError(f"an authorizer labelled {label!r} exists: choose another --label")

    def _save_new(
        self, app: OAuthApp, tokens: TokenSet, *, label: str | None, rate_tier: str
    ) -> Authorizer:
        user_id, username, tokens = identify(app, tokens, transport=self.transport)
        new = NewAuthorizer(
            label=self._free_label(label, username),
            api_url=app.api_url,
            client_id=app.client_id,
            client_secret_enc=self.box.encrypt(app.client_secret),
            tokens=seal_tokens(self.box, tokens),
            pinterest_user_id=user_id,
            pinterest_username=username,
            rate_tier=rate_tier,
        )
        return self._view(self.db.authorizers.insert(new))

    @staticmethod
    def _app(client_id: str, client_secret: SecretStr | str, api_url: str) -> OAuthApp:
        secret = client_secret if isinstance(client_secret, SecretStr) else SecretStr(client_secret)
        try:
            return OAuthApp(client_id=client_id, client_secret=secret, api_url=api_url)
        except ValidationError as exc:
            # Named as the options are (--api-url), without pydantic's "Value error, " prefix.
            problems = "; ".join(
                f"--{'.'.join(str(p) for p in error['loc']).replace('_', '-')}: "
                f"{error['msg'].removeprefix('Value error, ')}"
                for error in exc.errors()
            )
            raise ConfigError(f"invalid app settings: {problems}") from exc

    @staticmethod
    def _tier(rate_tier: str) -> str:
        if rate_tier not in RATE_TIERS:
            raise ConfigError(
                f"rate tier must be one of {', '.join(RATE_TIERS)}: got {rate_tier!r}"
            )
        return rate_tier

    def add_with_code_flow(
        self,
        *,
        client_id: str,
        client_secret: SecretStr | str,
        flow: CodeFlowOptions,
        api_url: str = PRODUCTION_API_URL,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        label: str | None = None,
        rate_tier: str = "standard",
    ) -> Authorizer:
        """Authorize in the browser (authorization-code flow) and save the authorizer. Any
        failure before the final insert stores nothing."""
        self._check_label_free(label)
        tier = self._tier(rate_tier)  # a bad value costs no consent or token exchange
        app = self._app(client_id, client_secret, api_url)
        tokens = run_code_flow(
            app,
            scopes=scopes,
            announce=flow.announce,
            redirect_uri=flow.redirect_uri,
            paste=flow.paste,
            open_browser=flow.open_browser,
            timeout_seconds=flow.timeout_seconds,
            transport=self.transport,
        )
        return self._save_new(app, tokens, label=label, rate_tier=tier)

    def add_with_refresh_token(
        self,
        *,
        client_id: str,
        client_secret: SecretStr | str,
        refresh_token: SecretStr | str,
        api_url: str = PRODUCTION_API_URL,
        label: str | None = None,
        rate_tier: str = "standard",
    ) -> Authorizer:
        """Import an existing refresh token (it is exchanged, and so rotated, at once)."""
        self._check_label_free(label)
        tier = self._tier(rate_tier)  # a bad value costs no token exchange (nor rotation)
        app = self._app(client_id, client_secret, api_url)
        tokens = refresh_tokens(
            app, refresh_token=refresh_token, transport=self.transport, imported=True
        )
        return self._save_new(app, tokens, label=label, rate_tier=tier)

    # -- reading and editing ---------------------------------------------------------------

    def list(self) -> builtins.list[Authorizer]:
        return [self._view(record) for record in self.db.authorizers.all()]

    def get(self, label_or_id: str | int) -> Authorizer:
        return self._view(self.db.authorizers.find(label_or_id))

    def rename(self, ref: AuthorizerRef, new_label: str) -> Authorizer:
        record = self._record(ref)
        return self._view(self.db.authorizers.rename(record.id, check_label(new_label)))

    def set_rate_tier(self, ref: AuthorizerRef, rate_tier: str) -> Authorizer:
        """Change the app's access tier (Pinterest moved the app from trial to standard)."""
        record = self._record(ref)
        return self._view(self.db.authorizers.set_rate_tier(record.id, self._tier(rate_tier)))

    def used_by(self, ref: AuthorizerRef) -> builtins.list[str]:
        """Names of the sources that use the authorizer (by id or label)."""
        return self.db.authorizers.used_by(self._record(ref).id)

    def delete(self, ref: AuthorizerRef) -> None:
        """Delete the local authorizer (refused while a source uses it)."""
        self.db.authorizers.delete(self._record(ref).id)

    # -- using -----------------------------------------------------------------------------

    def _fresh_tokens(self, record: AuthorizerRecord, app: OAuthApp) -> TokenSet:
        tokens = tokens_of(self.box, record)
        now = self._clock()
        # Also refresh when the refresh token nears its end: Pinterest's continuous refresh
        # tokens get a fresh 60-day life on every refresh, so any use renews them.
        renew = tokens.refresh_expires_at is not None and (
            tokens.refresh_expires_at - REFRESH_WARNING <= now
        )
        if not renew and not tokens.access_expires_within(OPEN_REFRESH_MARGIN, now=now):
            return tokens
        if tokens.refresh_expired(now=self._clock()):
            raise AuthError(
                f"the refresh token of authorizer {record.label!r} expired: re-authorize this "
                f"authorizer with `pinads auth reauthorize {record.label}`"
            )
        try:
            new = refresh_tokens(app, refresh_token=tokens.refresh_token, transport=self.transport)
        except AuthError as exc:
            latest = self.db.authorizers.get(record.id)
            if latest.refresh_token_enc not in (None, record.refresh_token_enc):
                return tokens_of(self.box, latest)  # another process rotated it meanwhile
            self._mark_dead(record)
            raise AuthError(f"authorizer {record.label!r}: {exc.message}") from exc
        self.db.authorizers.save_tokens(record.id, seal_tokens(self.box, new))
        return new

    def _mark_dead(self, record: AuthorizerRecord) -> None:
        # Pinterest refused the refresh token: it is dead (revoked there or expired) and only
        # a new consent helps, so the authorizer says so instead of "expiring".
        if not record.is_revoked:
            self.db.authorizers.mark_revoked(record.id)

    def mark_needs_reauthorization(self, ref: AuthorizerRef, *, refused: SecretStr) -> None:
        """Pinterest refused the refresh token `refused` (a run's refresh failed): the
        authorizer needs re-authorization, unless its stored token is another one (another
        process rotated it meanwhile) or it is unknown (a client opened by other means)."""
        try:
            record = self._record(ref)
        except ConfigError:
            return
        if record.is_revoked or record.refresh_token_enc is None:
            return
        stored = tokens_of(self.box, record).refresh_token
        if secrets.compare_digest(
            stored.get_secret_value().encode(), refused.get_secret_value().encode()
        ):
            self._mark_dead(record)

    def open_client(
        self, ref: AuthorizerRef, *, budgets: RateBudgets | None = None
    ) -> PinterestClient:
        """A client for the authorizer; every token rotation is committed before use."""
        record = self._record(ref)
        app = app_of(self.box, record)
        tokens = self._fresh_tokens(record, app)
        sink = DbTokenSink(self.db.authorizers, self.box, record.id)
        limits = self._limits(record.rate_tier)
        # Pinterest counts calls per user per app: every client of this user and app in the
        # process (concurrent scheduled runs, the web UI's runs and previews) draws from one
        # budget, so together they stay within the limits instead of each spending them all.
        user = record.pinterest_user_id or f"authorizer-{record.id}"
        shared = f"{record.api_url}|{user}|{record.client_id}"
        return PinterestClient(
            app,
            tokens,
            sink,
            transport=self.transport,
            budgets=budgets or self._budgets(shared, limits),
            clock=self._clock,
        )

    def _limits(self, rate_tier: str) -> RateLimits:
        """The limits to pace by: PINADS_RATE_LIMITS if set, else the authorizer's tier's."""
        custom = self.settings.rate_limits
        if custom is None:
            return RATE_TIERS.get(rate_tier, STANDARD_TIER)
        try:
            return RateLimits.model_validate_json(custom)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"]) or "the document"
            raise ConfigError(
                f"PINADS_RATE_LIMITS is not valid ({where}: {problem['msg']}): give JSON like "
                '{"categories": {"ads_analytics": {"calls": 300, "per_seconds": 60}}}'
            ) from exc

    def _budgets(self, key: str, limits: RateLimits) -> RateBudgets:
        """With a shared Redis, the budget all processes and machines draw from; else this
        process' own."""
        url = self.settings.shared_redis_url
        if url is None:
            return shared_budgets(key, limits)
        return redis_budgets(url, key, limits, prefix=self.settings.redis_prefix)

    def test(self, ref: AuthorizerRef) -> TestReport:
        """Call the API with the authorizer and say what works (AuthError if nothing can)."""
        record = self._record(ref)
        with self.open_client(record.id) as client:
            checks = run_checks(client, scopes=record.scopes)
        return TestReport(authorizer=self.get(record.id), checks=checks)

    def accounts(self, ref: AuthorizerRef) -> builtins.list[AdAccount]:
        """The ad accounts the authorizer's user can see, with the user's roles."""
        with self.open_client(ref) as client:
            return [AdAccount.from_api(item) for item in client.ad_accounts()]

    # -- re-authorizing and revoking ---------------------------------------------------------

    def reauthorize(
        self,
        ref: AuthorizerRef,
        *,
        flow: CodeFlowOptions | None = None,
        refresh_token: SecretStr | str | None = None,
        client_secret: SecretStr | str | None = None,
        scopes: tuple[str, ...] | None = None,
    ) -> Authorizer:
        """New tokens for an existing authorizer (same id and label, so sources keep working);
        through the code flow, or from a refresh token."""
        record = self._record(ref)
        app = app_of(self.box, record)
        if client_secret is not None:
            app = self._app(record.client_id, client_secret, record.api_url)
        if refresh_token is not None:
            tokens = refresh_tokens(
                app, refresh_token=refresh_token, transport=self.transport, imported=True
            )
        elif flow is not None:
            tokens = run_code_flow(
                app,
                scopes=scopes or record.scopes or DEFAULT_SCOPES,
                announce=flow.announce,
                redirect_uri=flow.redirect_uri,
                paste=flow.paste,
                open_browser=flow.open_browser,
                timeout_seconds=flow.timeout_seconds,
                transport=self.transport,
            )
        else:
            raise ConfigError("re-authorizing needs the consent flow or a refresh token")
        return self._store_reauthorized(record, app, tokens)

    def _store_reauthorized(
        self, record: AuthorizerRecord, app: OAuthApp, tokens: TokenSet
    ) -> Authorizer:
        user_id, username, tokens = identify(app, tokens, transport=self.transport)
        if record.pinterest_user_id and user_id and user_id != record.pinterest_user_id:
            raise AuthError(
                f"signed in as {username} ({user_id}) but authorizer {record.label!r} belongs to "
                f"{record.pinterest_username} ({record.pinterest_user_id}): nothing was stored; "
                "sign in as that user, or add a new authorizer"
            )
        if client_secret_changed := app.client_secret != app_of(self.box, record).client_secret:
            self.db.authorizers.update_client_secret(record.id, self.box.encrypt(app.client_secret))
        log.debug(
            "re-authorized %s (client secret changed: %s)", record.label, client_secret_changed
        )
        self.db.authorizers.save_tokens(
            record.id,
            seal_tokens(self.box, tokens),
            user_id=user_id or record.pinterest_user_id,
            username=username or record.pinterest_username,
            reactivate=True,
        )
        return self.get(record.id)

    def revoke(self, ref: AuthorizerRef) -> RevokeResult:
        """Revoke the tokens at Pinterest and forget them here (always, even if Pinterest
        refuses: its answer is reported)."""
        record = self._record(ref)
        if record.is_revoked:
            return RevokeResult(
                authorizer=self._view(record), revoked_at_pinterest=False, detail="already revoked"
            )
        confirmed, detail = revoke_at_pinterest(
            app_of(self.box, record), tokens_of(self.box, record), transport=self.transport
        )
        return RevokeResult(
            authorizer=self._view(self.db.authorizers.mark_revoked(record.id)),
            revoked_at_pinterest=confirmed,
            detail=detail,
        )


def open_client(authorizer: Authorizer | str | int) -> PinterestClient:
    """A client for a saved authorizer, through the service that loaded it (or a new one on
    the environment's settings)."""
    service = getattr(authorizer, "_service", None)
    if not isinstance(service, AuthorizerService):
        service = AuthorizerService()
    return service.open_client(authorizer)
