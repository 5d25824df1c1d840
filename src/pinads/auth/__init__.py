"""Authorizers: OAuth flows from the terminal, the encrypted token store, ad account roles.

`AuthorizerService` adds (authorization-code flow or an existing refresh token), lists, gets,
renames, tests, re-authorizes, revokes and deletes authorizers; `open_client(authorizer)` gives a
`PinterestClient` whose rotated tokens are committed to the control DB before they are used.
"""

from pinads.auth.accounts import ANALYTICS_ROLES, AdAccount, require_analytics_role
from pinads.auth.flow import (
    DEFAULT_PASTE_REDIRECT_URI,
    DEFAULT_SCOPES,
    CallbackServer,
    code_from_redirect,
    run_code_flow,
)
from pinads.auth.models import (
    REFRESH_WARNING,
    Authorizer,
    RevokeResult,
    TestCheck,
    TestReport,
    check_label,
    dead_reason,
)
from pinads.auth.service import (
    OPEN_REFRESH_MARGIN,
    AuthorizerService,
    CodeFlowOptions,
    open_client,
)
from pinads.auth.tokens import DbTokenSink

__all__ = [
    "ANALYTICS_ROLES",
    "DEFAULT_PASTE_REDIRECT_URI",
    "DEFAULT_SCOPES",
    "OPEN_REFRESH_MARGIN",
    "REFRESH_WARNING",
    "AdAccount",
    "Authorizer",
    "AuthorizerService",
    "CallbackServer",
    "CodeFlowOptions",
    "DbTokenSink",
    "RevokeResult",
    "TestCheck",
    "TestReport",
    "check_label",
    "code_from_redirect",
    "dead_reason",
    "open_client",
    "require_analytics_role",
    "run_code_flow",
]
