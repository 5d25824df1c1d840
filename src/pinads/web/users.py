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

from pinads.errors import ConfigError
from pinads.state import ApiTokenInfo, ControlDB

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

    def set_user(self, username: str, password: str) -> bool:
        """Create the user, or set a new password if it exists (which logs out every web
        session of the user); True when created."""
        if not _USERNAME.fullmatch(username):
            raise ConfigError(
                f"the user name {username!r} is not allowed: start with a letter and use at "
                "most 64 letters, digits, '_', '.', '@' or '-'"
            )
        if len(password) < MIN_PASSWORD_CHARS:
            raise ConfigError(
                f"the password is too short: use at least {MIN_PASSWORD_CHARS} characters"
            )
        return self.db.users.save(username, hash_password(password))

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

    # -- API tokens --------------------------------------------------------------------------

    def create_token(self, *, name: str, username: str) -> str:
        """A new API token for `username`; the plain token is returned once, never stored."""
        if not self.user_exists(username):
            raise ConfigError(f"no user {username!r}: create it with `pinads users create`")
        if not name.strip() or len(name) > 64:
            raise ConfigError("the token name must be 1-64 characters")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.db.api_tokens.insert(
            name=name.strip(), token_sha256=_token_digest(token), username=username
        )
        return token

    def user_for_token(self, token: str) -> str | None:
        return self.db.api_tokens.use(_token_digest(token))

    def tokens(self) -> list[ApiTokenInfo]:
        return self.db.api_tokens.all()

    def delete_token(self, token_id: int) -> None:
        if not self.db.api_tokens.delete(token_id):
            raise ConfigError(f"no API token with id {token_id}: see `pinads tokens list`")


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
