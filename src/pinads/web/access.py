"""The access check of every route: who is calling, with which role, and whether the route's
permission in `roles.POLICY` is granted to it. Routers are included with these dependencies,
so no route decides for itself (and none can forget to).

Pages: the session's user and its role (a disabled user has no session). API: the API token's
role, never more than its user's role now, or the session's user plus the CSRF header on
changes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request

from pinads.web.roles import GRANTS, Permission, Role, permission_for, refusal

__all__ = ["Caller", "api_access", "caller_of", "enforce", "page_access"]


@dataclass(frozen=True, slots=True)
class Caller:
    username: str
    role: Role
    permissions: frozenset[Permission]


def _route_permission(request: Request) -> Permission:
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    permission = permission_for(request.method, path)
    if permission is None:  # fail closed: a route missing from the policy is nobody's
        raise HTTPException(status_code=403, detail=f"{path} is not open to any role")
    return permission


def enforce(request: Request, caller: Caller) -> Caller:
    """The caller, when the route's permission is theirs; else 403 with what was refused."""
    request.state.caller = caller
    permission = _route_permission(request)
    if permission not in caller.permissions:
        raise HTTPException(status_code=403, detail=refusal(caller.role, permission))
    return caller


def caller_of(request: Request) -> Caller | None:
    """The caller the access check found for this request (templates build the menu on it)."""
    found = getattr(request.state, "caller", None)
    return found if isinstance(found, Caller) else None


def _caller(username: str, role: Role | None, token_role: Role | None = None) -> Caller:
    """A disabled or deleted user (role None) may do nothing; a token never more than its
    user may now (a user demoted after making the token)."""
    granted = GRANTS[role] if role is not None else frozenset()
    if token_role is not None:
        granted &= GRANTS[token_role]
    shown = token_role or role or Role.VIEWER
    return Caller(username=username, role=shown, permissions=granted)


def page_access(request: Request) -> Caller:
    from pinads.web.common import context_of, page_user

    username = page_user(request)
    return enforce(request, _caller(username, context_of(request).users.role(username)))


def api_access(request: Request) -> Caller:
    from pinads.web.common import context_of
    from pinads.web.security import api_credentials

    username, token_role = api_credentials(request)
    role = context_of(request).users.role(username)
    return enforce(request, _caller(username, role, token_role))
