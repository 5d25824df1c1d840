"""Web users and API tokens in the control DB (own versioned tables, same engine).

`pinads.state` has no hook for other packages' migrations, so the web keeps its own version
table `web_schema_version` (tables in `pinads.web.schema`) and migrates it on open, under the
same kind of lock.
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
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from pinads.errors import ConfigError, StateError
from pinads.settings import AppSettings
from pinads.state import create_control_engine, redacted_url
from pinads.web.schema import (
    API_TOKENS,
    LATEST_WEB_VERSION,
    USERS,
    WEB_MIGRATIONS,
    WEB_SCHEMA_VERSION,
)
from pinads.web.sessions import revoke_user_sessions

__all__ = [
    "TOKEN_PREFIX",
    "ApiTokenInfo",
    "WebStore",
    "hash_password",
    "verify_password",
]

TOKEN_PREFIX = "pinads_"  # noqa: S105  (a prefix, not a secret)
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD_CHARS = 8
_PG_LOCK_KEY = 0x70696E7765  # "pinwe"


def _now() -> datetime:
    return datetime.now(UTC)


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


@dataclass(frozen=True, slots=True)
class ApiTokenInfo:
    id: int
    name: str
    username: str
    created_at: datetime
    last_used_at: datetime | None


class WebStore:
    """Users and API tokens; tables migrated on open."""

    def __init__(self, settings: AppSettings) -> None:
        settings.ensure_home()
        self.engine = create_control_engine(settings)
        self._migrate()

    def close(self) -> None:
        self.engine.dispose()

    def _migrate(self) -> None:
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                WEB_SCHEMA_VERSION.create(conn, checkfirst=True)
                version = conn.execute(sa.select(sa.func.max(WEB_SCHEMA_VERSION.c.version)))
                current = int(version.scalar() or 0)
                if current > LATEST_WEB_VERSION:
                    raise StateError(
                        f"the control DB {redacted_url(str(self.engine.url))} has web tables at "
                        f"version {current}, newer than this pinads knows: upgrade pinads"
                    )
                for number, step in WEB_MIGRATIONS:
                    if number > current:
                        step(conn)
                        conn.execute(
                            WEB_SCHEMA_VERSION.insert().values(version=number, applied_at=_now())
                        )
        except sa.exc.OperationalError as exc:
            raise StateError(
                f"cannot open the control DB {redacted_url(str(self.engine.url))} "
                f"({type(exc.orig).__name__}): check PINADS_DATABASE_URL / PINADS_HOME"
            ) from exc

    # -- users -----------------------------------------------------------------------------

    def has_users(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(USERS)).scalar_one() > 0

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
        hashed = hash_password(password)
        with self.engine.begin() as conn:
            found = conn.execute(sa.select(USERS.c.id).where(USERS.c.username == username))
            if found.first() is None:
                conn.execute(
                    USERS.insert().values(
                        username=username, password_hash=hashed, created_at=_now()
                    )
                )
                return True
            conn.execute(
                USERS.update().where(USERS.c.username == username).values(password_hash=hashed)
            )
            revoke_user_sessions(conn, username)
            return False

    def set_password(self, username: str, password: str) -> None:
        """A new password for an existing user; every web session of the user ends."""
        if not self.user_exists(username):
            raise ConfigError(
                f"no user {username!r}: create it with `pinads users create {username}`"
            )
        self.set_user(username, password)

    def authenticate(self, username: str, password: str) -> bool:
        with self.engine.connect() as conn:
            stored = conn.execute(
                sa.select(USERS.c.password_hash).where(USERS.c.username == username)
            ).scalar_one_or_none()
        if stored is None:
            # Same work as a real check, so timing does not tell which user names exist.
            verify_password(password, _dummy_hash())
            return False
        return verify_password(password, stored)

    def user_exists(self, username: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(USERS.c.id).where(USERS.c.username == username))
            return found.first() is not None

    # -- API tokens --------------------------------------------------------------------------

    def create_token(self, *, name: str, username: str) -> str:
        """A new API token for `username`; the plain token is returned once, never stored."""
        if not self.user_exists(username):
            raise ConfigError(f"no user {username!r}: create it with `pinads users create`")
        if not name.strip() or len(name) > 64:
            raise ConfigError("the token name must be 1-64 characters")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                API_TOKENS.insert().values(
                    name=name.strip(),
                    token_sha256=_token_digest(token),
                    username=username,
                    created_at=_now(),
                )
            )
        return token

    def user_for_token(self, token: str) -> str | None:
        digest = _token_digest(token)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(API_TOKENS.c.id, API_TOKENS.c.username).where(
                    API_TOKENS.c.token_sha256 == digest
                )
            ).first()
            if row is None:
                return None
            conn.execute(
                API_TOKENS.update().where(API_TOKENS.c.id == row.id).values(last_used_at=_now())
            )
            return str(row.username)

    def tokens(self) -> list[ApiTokenInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(API_TOKENS).order_by(API_TOKENS.c.id)).all()
        return [ApiTokenInfo(r.id, r.name, r.username, r.created_at, r.last_used_at) for r in rows]

    def delete_token(self, token_id: int) -> None:
        with self.engine.begin() as conn:
            deleted = conn.execute(API_TOKENS.delete().where(API_TOKENS.c.id == token_id))
        if deleted.rowcount == 0:
            raise ConfigError(f"no API token with id {token_id}: see `pinads tokens list`")


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
