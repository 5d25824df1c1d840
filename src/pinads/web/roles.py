"""Roles and what each may do: the one policy of the web pages, the JSON API and API tokens.

Every route is listed in `POLICY` with the permission it needs (a test checks that none is
missing, so a new route cannot be left open by omission); `permission_for` finds it and the
app's access dependency enforces it. A route not listed is refused.

- admin: everything, users, tokens of anyone, notifications, the audit log.
- editor: sources and runs (create, edit, run, backfill, Test Data, delete), reads the rest.
- viewer: reads sources, runs, authorizers and datasets; changes nothing.
- authorizer: adds, tests and re-authorizes authorizers, and nothing else (the Pinterest
  account owner who grants access, as Dataddo's "team member with the authorizer role").
"""

from __future__ import annotations

import enum

from pinads.errors import ConfigError

__all__ = [
    "GRANTS",
    "POLICY",
    "Permission",
    "Role",
    "parse_role",
    "permission_for",
    "refusal",
    "role_covers",
]


class Role(enum.StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"
    AUTHORIZER = "authorizer"


class Permission(enum.StrEnum):
    SELF = "self"  # one's own account, password and session; the API's docs
    VIEW = "view"  # sources, runs, jobs, datasets, metrics
    VIEW_AUTHORIZERS = "view_authorizers"
    AUTHORIZE = "authorize"  # add, test and re-authorize authorizers
    MANAGE_AUTHORIZERS = "manage_authorizers"  # rename, revoke, delete
    EDIT_SOURCES = "edit_sources"  # create, edit, delete, run, backfill, Test Data
    ADMIN = "admin"  # users, everyone's tokens, notifications, audit log


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset(
        {Permission.SELF, Permission.VIEW, Permission.VIEW_AUTHORIZERS, Permission.EDIT_SOURCES}
    ),
    Role.VIEWER: frozenset({Permission.SELF, Permission.VIEW, Permission.VIEW_AUTHORIZERS}),
    Role.AUTHORIZER: frozenset(
        {Permission.SELF, Permission.VIEW_AUTHORIZERS, Permission.AUTHORIZE}
    ),
}

# What a refused user reads: the action in the pages' words.
_ACTIONS: dict[Permission, str] = {
    Permission.SELF: "use this page",
    Permission.VIEW: "see sources and runs",
    Permission.VIEW_AUTHORIZERS: "see authorizers",
    Permission.AUTHORIZE: "add or re-authorize authorizers",
    Permission.MANAGE_AUTHORIZERS: "rename, revoke or delete authorizers",
    Permission.EDIT_SOURCES: "change sources or start runs",
    Permission.ADMIN: "manage users, tokens, notifications or read the audit log",
}

P = Permission
# (method, route path) -> the permission it needs. Pages first, then the API.
POLICY: dict[tuple[str, str], Permission] = {
    ("GET", "/account"): P.SELF,
    ("POST", "/account/password"): P.SELF,
    ("POST", "/logout"): P.SELF,
    ("GET", "/audit"): P.ADMIN,
    ("GET", "/users"): P.ADMIN,
    ("POST", "/users"): P.ADMIN,
    ("POST", "/users/{username}/role"): P.ADMIN,
    ("POST", "/users/{username}/disable"): P.ADMIN,
    ("POST", "/users/{username}/enable"): P.ADMIN,
    ("POST", "/users/{username}/unlock"): P.ADMIN,
    ("POST", "/users/{username}/delete"): P.ADMIN,
    ("GET", "/authorizers"): P.VIEW_AUTHORIZERS,
    ("GET", "/authorizers/{authorizer_id}"): P.VIEW_AUTHORIZERS,
    ("GET", "/authorizers/new"): P.AUTHORIZE,
    ("POST", "/authorizers/new"): P.AUTHORIZE,
    ("GET", "/authorizers/callback"): P.AUTHORIZE,
    ("POST", "/authorizers/import"): P.AUTHORIZE,
    ("POST", "/authorizers/{authorizer_id}/test"): P.AUTHORIZE,
    ("POST", "/authorizers/{authorizer_id}/reauthorize"): P.AUTHORIZE,
    ("POST", "/authorizers/{authorizer_id}/rename"): P.MANAGE_AUTHORIZERS,
    ("POST", "/authorizers/{authorizer_id}/revoke"): P.MANAGE_AUTHORIZERS,
    ("POST", "/authorizers/{authorizer_id}/delete"): P.MANAGE_AUTHORIZERS,
    ("GET", "/sources"): P.VIEW,
    ("GET", "/sources/{name}"): P.VIEW,
    ("GET", "/sources/new"): P.EDIT_SOURCES,
    ("POST", "/sources/new"): P.EDIT_SOURCES,
    ("GET", "/sources/{name}/edit"): P.EDIT_SOURCES,
    ("POST", "/sources/{name}/run"): P.EDIT_SOURCES,
    ("POST", "/sources/{name}/backfill"): P.EDIT_SOURCES,
    ("POST", "/sources/{name}/delete"): P.EDIT_SOURCES,
    ("GET", "/metrics"): P.VIEW,
    ("GET", "/api/docs"): P.SELF,
    ("GET", "/api/openapi.json"): P.SELF,
    ("GET", "/api/me"): P.SELF,
    ("GET", "/api/audit"): P.ADMIN,
    ("GET", "/notifications"): P.ADMIN,
    ("POST", "/notifications"): P.ADMIN,
    ("POST", "/notifications/{name}/delete"): P.ADMIN,
    ("POST", "/notifications/{name}/test"): P.ADMIN,
    ("GET", "/api/notifications"): P.ADMIN,
    ("PUT", "/api/notifications/{name}"): P.ADMIN,
    ("DELETE", "/api/notifications/{name}"): P.ADMIN,
    ("POST", "/api/notifications/{name}/test"): P.ADMIN,
    ("GET", "/api/authorizers"): P.VIEW_AUTHORIZERS,
    ("GET", "/api/authorizers/{ref}"): P.VIEW_AUTHORIZERS,
    ("GET", "/api/authorizers/{ref}/accounts"): P.VIEW_AUTHORIZERS,
    ("POST", "/api/authorizers"): P.AUTHORIZE,
    ("POST", "/api/authorizers/{ref}/test"): P.AUTHORIZE,
    ("PATCH", "/api/authorizers/{ref}"): P.MANAGE_AUTHORIZERS,
    ("DELETE", "/api/authorizers/{ref}"): P.MANAGE_AUTHORIZERS,
    ("POST", "/api/authorizers/{ref}/revoke"): P.MANAGE_AUTHORIZERS,
    ("GET", "/api/datasets"): P.VIEW,
    ("GET", "/api/datasets/{name}"): P.VIEW,
    ("POST", "/api/validate-selection"): P.VIEW,  # a check that changes nothing
    ("GET", "/api/sources"): P.VIEW,
    ("GET", "/api/sources/{name}"): P.VIEW,
    ("GET", "/api/sources/{name}/runs"): P.VIEW,
    ("GET", "/api/runs"): P.VIEW,
    ("GET", "/api/jobs/{job_id}"): P.VIEW,
    ("POST", "/api/sources"): P.EDIT_SOURCES,
    ("PUT", "/api/sources/{name}"): P.EDIT_SOURCES,
    ("PATCH", "/api/sources/{name}"): P.EDIT_SOURCES,
    ("DELETE", "/api/sources/{name}"): P.EDIT_SOURCES,
    ("POST", "/api/sources/{name}/run"): P.EDIT_SOURCES,
    ("POST", "/api/sources/{name}/backfill"): P.EDIT_SOURCES,
    ("POST", "/api/preview"): P.EDIT_SOURCES,  # Test Data spends the authorizer's API calls
}
del P


def permission_for(method: str, path: str) -> Permission | None:
    """The permission route (`method`, `path` template) needs; None: not in the policy."""
    return POLICY.get(("GET" if method == "HEAD" else method, path))


def role_covers(holder: Role, other: Role) -> bool:
    """Whether `holder` may do all that `other` may (so may hand a token of role `other`)."""
    return GRANTS[other] <= GRANTS[holder]


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise ConfigError(
            f"no role {value!r}: use one of {', '.join(r.value for r in Role)}"
        ) from None


def refusal(role: Role, permission: Permission) -> str:
    """The one-line 403 message: what was refused, and who can help."""
    return (
        f"your role ({role.value}) may not {_ACTIONS[permission]}: ask an admin for a role that may"
    )
