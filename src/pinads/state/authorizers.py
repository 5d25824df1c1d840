"""Authorizers in the control DB: insert, find by label or id, rename, save rotated tokens,
mark revoked, delete (refused while a source uses the authorizer)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pinads.errors import ConfigError, StateError
from pinads.state.db import inserted_id, utc_now
from pinads.state.records import AuthorizerRecord, NewAuthorizer, StoredTokens
from pinads.state.schema import AUTHORIZERS, SOURCES

__all__ = ["AuthorizerRepository"]


def _record(row: sa.Row[Any]) -> AuthorizerRecord:
    data = dict(row._mapping)
    data["scopes"] = tuple(s for s in (data.get("scopes") or "").split(",") if s)
    return AuthorizerRecord.model_validate(data)


def _refers(config: Any, *, authorizer_id: int, label: str) -> bool:
    """Whether a source config document names the authorizer (by label or id)."""
    ref = config.get("authorizer") if isinstance(config, dict) else None
    return ref is not None and str(ref) in {label, str(authorizer_id)}


def sources_using_authorizer(conn: sa.Connection, *, authorizer_id: int, label: str) -> list[str]:
    """Names of the sources that use the authorizer (by id or by label), sorted."""
    names: set[str] = set()
    rows = conn.execute(sa.select(SOURCES.c.name, SOURCES.c.authorizer_id, SOURCES.c.config))
    for name, ref_id, config in rows:
        if ref_id == authorizer_id or _refers(config, authorizer_id=authorizer_id, label=label):
            names.add(name)
    return sorted(names)


def _relabel_sources(conn: sa.Connection, *, old: str, new: str) -> None:
    for source_id, config in conn.execute(sa.select(SOURCES.c.id, SOURCES.c.config)).all():
        if isinstance(config, dict) and config.get("authorizer") == old:
            conn.execute(
                SOURCES.update()
                .where(SOURCES.c.id == source_id)
                .values(config={**config, "authorizer": new}, updated_at=utc_now())
            )


def _token_values(tokens: StoredTokens) -> dict[str, Any]:
    return {
        "access_token_enc": tokens.access_token_enc,
        "refresh_token_enc": tokens.refresh_token_enc,
        "access_expires_at": tokens.access_expires_at,
        "refresh_expires_at": tokens.refresh_expires_at,
        "scopes": ",".join(tokens.scopes),
    }


class AuthorizerRepository:
    """All access to the `authorizers` table."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def insert(self, new: NewAuthorizer) -> AuthorizerRecord:
        now = utc_now()
        values = {
            "label": new.label,
            "api_url": new.api_url,
            "client_id": new.client_id,
            "client_secret_enc": new.client_secret_enc,
            "pinterest_user_id": new.pinterest_user_id,
            "pinterest_username": new.pinterest_username,
            "rate_tier": new.rate_tier,
            "created_at": now,
            "updated_at": now,
            **_token_values(new.tokens),
        }
        try:
            with self._engine.begin() as conn:
                result = conn.execute(AUTHORIZERS.insert().values(**values))
                new_id = inserted_id(result)
        except sa.exc.IntegrityError as exc:
            raise ConfigError(
                f"an authorizer labelled {new.label!r} exists: choose another --label"
            ) from exc
        return self.get(new_id)

    def get(self, authorizer_id: int) -> AuthorizerRecord:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(AUTHORIZERS).where(AUTHORIZERS.c.id == authorizer_id)
            ).first()
        if row is None:
            raise self._unknown(str(authorizer_id))
        return _record(row)

    def find(self, label_or_id: str | int) -> AuthorizerRecord:
        """By label, or by id when given an int or a string of digits (labels never are)."""
        key = str(label_or_id).strip()
        column = AUTHORIZERS.c.id if key.isdigit() else AUTHORIZERS.c.label
        value: int | str = int(key) if key.isdigit() else key
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(AUTHORIZERS).where(column == value)).first()
        if row is None:
            raise self._unknown(key)
        return _record(row)

    def find_optional(self, label: str) -> AuthorizerRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(AUTHORIZERS).where(AUTHORIZERS.c.label == label)).first()
        return None if row is None else _record(row)

    def all(self) -> list[AuthorizerRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(AUTHORIZERS).order_by(AUTHORIZERS.c.id)).all()
        return [_record(row) for row in rows]

    def labels(self) -> list[str]:
        with self._engine.connect() as conn:
            return list(
                conn.execute(sa.select(AUTHORIZERS.c.label).order_by(AUTHORIZERS.c.label)).scalars()
            )

    def _unknown(self, key: str) -> ConfigError:
        known = ", ".join(self.labels()) or "none yet"
        return ConfigError(
            f"no authorizer {key!r} (authorizers: {known}); add one with `pinads auth add`"
        )

    def _update(self, authorizer_id: int, *, active_only: bool = False, **values: Any) -> None:
        condition = AUTHORIZERS.c.id == authorizer_id
        if active_only:
            condition = condition & AUTHORIZERS.c.revoked_at.is_(None)
        with self._engine.begin() as conn:
            done = conn.execute(
                AUTHORIZERS.update().where(condition).values(updated_at=utc_now(), **values)
            ).rowcount
        if done != 1:
            raise StateError(
                f"authorizer {authorizer_id} was deleted or revoked while in use: "
                "re-authorize it with `pinads auth reauthorize` or add it again"
            )

    def rename(self, authorizer_id: int, label: str) -> AuthorizerRecord:
        """New label; source configs that name the old label follow (same transaction)."""
        old = self.get(authorizer_id)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    AUTHORIZERS.update()
                    .where(AUTHORIZERS.c.id == authorizer_id)
                    .values(label=label, updated_at=utc_now())
                )
                _relabel_sources(conn, old=old.label, new=label)
        except sa.exc.IntegrityError as exc:
            raise ConfigError(
                f"an authorizer labelled {label!r} exists: choose another label"
            ) from exc
        return self.get(authorizer_id)

    def set_rate_tier(self, authorizer_id: int, rate_tier: str) -> AuthorizerRecord:
        """The app's access tier (sets the call budgets of every client opened from now)."""
        with self._engine.begin() as conn:
            conn.execute(
                AUTHORIZERS.update()
                .where(AUTHORIZERS.c.id == authorizer_id)
                .values(rate_tier=rate_tier, updated_at=utc_now())
            )
        return self.get(authorizer_id)

    def save_tokens(
        self,
        authorizer_id: int,
        tokens: StoredTokens,
        *,
        user_id: str | None = None,
        username: str | None = None,
        reactivate: bool = False,
    ) -> None:
        """Replace the stored tokens in one transaction (committed before returning). Refused
        (StateError) for a revoked authorizer unless `reactivate` (re-authorization)."""
        values = _token_values(tokens)
        if user_id is not None:
            values.update(pinterest_user_id=user_id, pinterest_username=username)
        if reactivate:
            values["revoked_at"] = None
        self._update(authorizer_id, active_only=not reactivate, **values)

    def update_client_secret(self, authorizer_id: int, client_secret_enc: str) -> None:
        self._update(authorizer_id, client_secret_enc=client_secret_enc)

    def mark_revoked(self, authorizer_id: int) -> AuthorizerRecord:
        """Forget the tokens (ciphertexts too) and note when."""
        self._update(
            authorizer_id,
            access_token_enc=None,
            refresh_token_enc=None,
            access_expires_at=None,
            refresh_expires_at=None,
            revoked_at=utc_now(),
        )
        return self.get(authorizer_id)

    def used_by(self, authorizer_id: int) -> list[str]:
        """Names of the sources that use the authorizer (by id or by label), sorted."""
        record = self.get(authorizer_id)
        with self._engine.connect() as conn:
            return sources_using_authorizer(conn, authorizer_id=record.id, label=record.label)

    def delete(self, authorizer_id: int) -> None:
        """Delete, refused while a source uses the authorizer (checked in the same transaction)."""
        record = self.get(authorizer_id)
        with self._engine.begin() as conn:
            users = sources_using_authorizer(conn, authorizer_id=record.id, label=record.label)
            if users:
                raise ConfigError(
                    f"authorizer {record.label!r} is used by source(s) {', '.join(users)}: "
                    "point them to another authorizer or delete them first"
                )
            conn.execute(AUTHORIZERS.delete().where(AUTHORIZERS.c.id == record.id))
