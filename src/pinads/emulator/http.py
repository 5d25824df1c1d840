"""Request plumbing shared by the handlers: JSON responses, bearer auth, account access."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pinads.emulator.errors import AUTH_FAILED, FORBIDDEN, MISSING_SCOPE, ApiProblemError
from pinads.emulator.state import EmulatorState
from pinads.emulator.tokens import TokenInfo
from pinads.emulator.world import Account

__all__ = [
    "JSONBytes",
    "account_roles",
    "authenticate",
    "emulator_state",
    "json_response",
    "require_account",
]


class JSONBytes(Response):
    media_type = "application/json"


def json_response(payload: Any, status: int = 200) -> Response:
    return JSONBytes(orjson.dumps(payload), status_code=status)


def emulator_state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def authenticate(request: Request, *, scope: str | None = "ads:read") -> TokenInfo:
    """The caller's identity from `Authorization: Bearer`, with `scope` required."""
    header = request.headers.get("authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise ApiProblemError(*AUTH_FAILED)
    info = emulator_state(request).identify(token.strip())
    if info is None:
        raise ApiProblemError(*AUTH_FAILED)
    if scope is not None and scope not in info.scopes:
        raise ApiProblemError(*MISSING_SCOPE)
    return info


def account_roles(account: Account, user_id: str) -> tuple[str, ...]:
    return account.roles.get(user_id, ())


def require_account(
    request: Request,
    info: TokenInfo,
    account_id: str,
    *,
    roles: frozenset[str] | None = None,
) -> Account:
    """The ad account if the token's user has a role on it, and one of `roles` when given
    (e.g. `ANALYTICS_ROLES`). Pinterest answers 403 code 29 in both cases; unknown ids 404."""
    if not account_id.isdigit() or len(account_id) > 18:
        raise ApiProblemError(400, 400, "Invalid ad account id")
    account = emulator_state(request).world.accounts.get(account_id)
    if account is None:
        raise ApiProblemError(404, 2, "AdAccount not found.")
    held = account_roles(account, info.user_id)
    if not held or (roles is not None and not roles.intersection(held)):
        raise ApiProblemError(*FORBIDDEN)
    return account
