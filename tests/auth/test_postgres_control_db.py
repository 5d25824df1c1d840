"""Authorizers in a PostgreSQL control DB (`PINADS_DATABASE_URL`), through the CLI against the
loopback emulator: versioned schema, rotations stored, rename/delete with a source, revoke,
and no plain secret in any PostgreSQL row or any file in PINADS_HOME."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr
from typer.testing import CliRunner

from pinads.api import OAuthApp, refresh_tokens
from pinads.auth import AuthorizerService
from pinads.auth.tokens import tokens_of
from pinads.cli import app
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EmulatorConfig,
    EmulatorServer,
)
from pinads.emulator.tokens import IssuedTokens, TokenInfo
from pinads.errors import AuthError, PinadsError
from pinads.state import HEAD

pytestmark = pytest.mark.postgres

PG = "postgresql://postgres@127.0.0.1:5432/test"
runner = CliRunner()


def _server_up() -> bool:
    try:
        with psycopg.connect(PG, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture
def pg_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh schema, selected for pinads through PINADS_DATABASE_URL; dropped afterwards."""
    if not _server_up():
        pytest.skip(f"PostgreSQL is not running at {PG}")
    schema = f"pinads_auth_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    monkeypatch.setenv(
        "PINADS_DATABASE_URL",
        f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}",
    )
    try:
        yield schema
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # One-minute access tokens: every CLI command that calls Pinterest refreshes first.
    return EmulatorConfig(seed=7, access_token_lifetime_days=1 / 1440)


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    if isinstance(result.exception, PinadsError):
        return result.exception.exit_code, f"{result.output}error: {result.exception}"
    return result.exit_code, result.output


def _stored_refresh(label: str) -> str:
    with AuthorizerService() as service:
        record = service.db.authorizers.find(label)
        return tokens_of(service.box, record).refresh_token.get_secret_value()


def _every_row_as_text(schema: str) -> str:
    with psycopg.connect(PG) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        texts = [
            str(row[0])
            for table in tables
            for row in conn.execute(
                sql.SQL("SELECT row_to_json(t)::text FROM {}.{} t").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            )
        ]
    return "\n".join(texts)


def _import(server: EmulatorServer) -> str:
    state = server.state
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    token = state.tokens.mint(info, now=state.now()).refresh_token
    code, out = _invoke(
        "auth", "add", "--label", "main", "--client-id", DEMO_CLIENT_ID,
        "--client-secret", DEMO_CLIENT_SECRET, "--api-url", server.api_url,
        "--refresh-token", token,
    )  # fmt: skip
    assert code == 0, out
    return token


def test_authorizers_live_in_postgresql_and_keep_only_the_newest_token(
    pg_schema: str,
    emulator_server: EmulatorServer,
    issued: list[IssuedTokens],
    pinads_home: Path,
) -> None:
    seen = [_import(emulator_server), _stored_refresh("main")]
    for _ in range(10):
        code, out = _invoke("auth", "test", "main")
        assert code == 0, out
        seen.append(_stored_refresh("main"))
    assert len(set(seen)) == 12  # every command refreshed, and its rotation was stored
    app_ = OAuthApp(
        client_id=DEMO_CLIENT_ID,
        client_secret=SecretStr(DEMO_CLIENT_SECRET),
        api_url=emulator_server.api_url,
    )
    for old in seen[:-1]:
        with pytest.raises(AuthError, match="re-authorize this authorizer"):
            refresh_tokens(app_, refresh_token=old)
    assert _invoke("auth", "test", "main")[0] == 0  # the newest one still works

    with psycopg.connect(PG) as conn:
        versions = conn.execute(
            sql.SQL("SELECT version_num FROM {}.alembic_version").format(sql.Identifier(pg_schema))
        ).fetchall()
        authorizers = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.authorizers").format(sql.Identifier(pg_schema))
        ).fetchone()
    assert [v for (v,) in versions] == [HEAD]
    assert authorizers == (1,)

    with AuthorizerService() as service:
        authorizer_id = service.get("main").id
        service.db.sources.create("daily", {"authorizer": "main"}, authorizer_id=authorizer_id)
    code, out = _invoke("auth", "rename", "main", "shop")
    assert code == 0, out
    with AuthorizerService() as service:
        assert service.db.sources.get("daily").config == {"authorizer": "shop"}
    code, out = _invoke("auth", "delete", "shop", "--yes")
    assert code == 2 and "'shop' is used by source(s) daily" in out
    code, out = _invoke("auth", "revoke", "shop", "--yes")
    assert code == 0 and "revoked at Pinterest and forgotten here" in out
    code, out = _invoke("auth", "test", "shop")
    assert code == 3 and "re-authorize this authorizer" in out

    secrets = {DEMO_CLIENT_SECRET} | {t.access_token for t in issued}
    secrets |= {t.refresh_token for t in issued}
    assert len(secrets) >= 1 + 2 * 12
    rows = _every_row_as_text(pg_schema)
    assert '"access_token_enc":null' in rows  # revoked: even the ciphertexts are gone
    leaked = [s[:6] for s in secrets if s in rows]
    assert not leaked, f"PostgreSQL rows contain secrets starting {leaked}"
    files = [p for p in pinads_home.rglob("*") if p.is_file()]
    assert [p.name for p in files] == ["secret.key"]  # no SQLite file: the DB is PostgreSQL
