"""Web users and API tokens: name and password rules, password hashing, token minting. The
rows are kept by `pinads.state` (`UserRepository`, `ApiTokenRepository`).

Passwords are hashed with scrypt and a random salt; API tokens are random 32-byte secrets, so
a SHA-256 of the token is enough to look them up without storing them.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from datetime import datetime

from pinads.errors import ConfigError
from pinads.state import ApiTokenInfo, ControlDB, UserInfo
from pinads.state.db import utc_now
from pinads.web.roles import Role, role_covers

__all__ = [
    "MIN_PASSWORD_CHARS",
    "TOKEN_PREFIX",
    "WebUsers",
    "hash_password",
    "verify_password",
]

TOKEN_PREFIX = "pinads_"  # noqa: S105  (a prefix, not a secret)
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD_CHARS = 8


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=32,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WebUsers:
    """Users and API tokens of the control DB `db`."""

    def __init__(self, db: ControlDB) -> None:
        self.db = db

    # -- users -----------------------------------------------------------------------------

    def has_users(self) -> bool:
        return self.db.users.any()

    def set_user(self, username: str, password: str, *, role: Role = Role.ADMIN) -> bool:
        """Create the user with `role`, or set a new password if it exists (which logs out
        every web session of the user; its role stays); True when created."""
        if not _USERNAME.fullmatch(username):
            raise ConfigError(
                f"the user name {username!r} is not allowed: start with a letter and use at "
                "most 64 letters, digits, '_', '.', '@' or '-'"
            )
        if len(password) < MIN_PASSWORD_CHARS:
            raise ConfigError(
                f"the password is too short: use at least {MIN_PASSWORD_CHARS} characters"
            )
        return self.db.users.save(username, hash_password(password), role=role.value)

    def set_password(self, username: str, password: str) -> None:
        """A new password for an existing user; every web session of the user ends."""
        if not self.user_exists(username):
            raise ConfigError(
                f"no user {username!r}: create it with `pinads users create {username}`"
            )
        self.set_user(username, password)

    def authenticate(self, username: str, password: str) -> bool:
        stored = self.db.users.password_hash(username)
        if stored is None:
            # Same work as a real check, so timing does not tell which user names exist.
            verify_password(password, _dummy_hash())
            return False
        return verify_password(password, stored)

    def user_exists(self, username: str) -> bool:
        return self.db.users.exists(username)

    def role(self, username: str) -> Role | None:
        """The user's role; None for a missing or disabled user (who may do nothing)."""
        found = self.db.users.role(username)
        return Role(found) if found is not None else None

    def users(self) -> list[UserInfo]:
        return self.db.users.all()

    def _existing(self, username: str) -> None:
        if not self.user_exists(username):
            raise ConfigError(f"no user {username!r}: see `pinads users list`")

    def _keep_an_admin(self, username: str) -> None:
        if self.db.users.active_admins() == [username]:
            raise ConfigError(
                f"{username!r} is the only active admin: make another user admin first"
            )

    def set_role(self, username: str, role: Role) -> None:
        self._existing(username)
        if role is not Role.ADMIN:
            self._keep_an_admin(username)
        self.db.users.set_role(username, role.value)

    def disable(self, username: str) -> None:
        """The user can no longer log in or use its tokens; its web sessions end."""
        self._existing(username)
        self._keep_an_admin(username)
        self.db.users.set_disabled(username, disabled=True)

    def enable(self, username: str) -> None:
        self._existing(username)
        self.db.users.set_disabled(username, disabled=False)

    def delete(self, username: str) -> None:
        """Delete the user with its API tokens and web sessions."""
        self._existing(username)
        self._keep_an_admin(username)
        self.db.users.delete(username)

    def unlock(self, username: str) -> None:
        """Forget the user's failed logins: a user locked out by the throttle may log in."""
        self._existing(username)
        self.db.login_failures.clear("user", username)

    # -- API tokens --------------------------------------------------------------------------

    def create_token(
        self,
        *,
        name: str,
        username: str,
        role: Role | None = None,
        expires_at: datetime | None = None,
    ) -> str:
        """A new API token for `username`, with `role` (at most the user's; None: the user's
        role, whatever it becomes) until `expires_at` (None: until deleted). The plain token is
        returned once, never stored."""
        if not self.user_exists(username):
            raise ConfigError(f"no user {username!r}: create it with `pinads users create`")
        holder = self.role(username)
        if holder is None:
            raise ConfigError(f"user {username!r} is disabled: `pinads users enable` it first")
        if not name.strip() or len(name) > 64:
            raise ConfigError("the token name must be 1-64 characters")
        if role is not None and not role_covers(holder, role):
            raise ConfigError(
                f"a token of {username!r} ({holder.value}) cannot have the role {role.value}: "
                "a token's role is at most its user's"
            )
        if expires_at is not None and expires_at <= utc_now():
            raise ConfigError("the token's expiry is in the past: give a later one")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.db.api_tokens.insert(
            name=name.strip(),
            token_sha256=_token_digest(token),
            username=username,
            role=role.value if role is not None else None,
            expires_at=expires_at,
        )
        return token

    def token_use(self, token: str) -> tuple[str, Role | None] | None:
        """The user a valid, unexpired token acts for, and the token's own role (None: the
        user's); None for an unknown or expired token."""
        use = self.db.api_tokens.use(_token_digest(token))
        if use is None:
            return None
        return use.username, Role(use.role) if use.role is not None else None

    def tokens(self) -> list[ApiTokenInfo]:
        return self.db.api_tokens.all()

    def delete_token(self, token_id: int) -> None:
        if not self.db.api_tokens.delete(token_id):
            raise ConfigError(f"no API token with id {token_id}: see `pinads tokens list`")


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
