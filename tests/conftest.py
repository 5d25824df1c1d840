"""Shared fixtures: every test gets its own PINADS_HOME; emulator fixtures for every area.

Emulator fixtures (function-scoped, each test gets a fresh clock, tokens and reports; the
generated world is cached per seed, so they are cheap):
- `emulator_config`: `EmulatorConfig(seed=7)` with the real UTC date as today (so code that
  computes dates from the real clock agrees with the emulator). Override it in a test module
  to change the config for the fixtures below.
- `emulator_app`: the ASGI app; `emulator_app.state.emulator` is the `EmulatorState`.
- `emulator_transport`: a sync `httpx.BaseTransport` that drives `emulator_app` in-process;
  use with base URL `http://emulator.test/v5` (any host works).
- `emulator_server`: `EmulatorServer` on a free loopback port (`.base_url`, `.api_url`).
- `emulator_tokens`: tokens (ads:read, user_accounts:read) for the default demo user, minted on
  `emulator_app`'s state (`.access_token`, `.refresh_token`, expiries, scopes).
- `authorizer`: an authorizer labelled `demo` in this test's PINADS_HOME for the default demo
  user of `emulator_server` (imported refresh token); the fixture's value is the label.

Secrets at rest:
- `control_db_backend`: runs the test with the default SQLite control DB and again with
  PINADS_DATABASE_URL at a fresh schema of the PostgreSQL server.
- `stored_bytes`: a function returning everything pinads keeps (every file in PINADS_HOME and,
  with a PostgreSQL control DB, every row of its tables), to assert a secret is not in it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported lazily so areas that do not use the emulator never load it
    from starlette.applications import Starlette

    from pinads.emulator import EmulatorConfig, EmulatorServer, InProcessTransport
    from pinads.emulator.tokens import IssuedTokens

IN_PROCESS_API_URL = "http://emulator.test/v5"
PG = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(autouse=True)
def pinads_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "pinads-home"
    monkeypatch.setenv("PINADS_HOME", str(home))
    # Tests write DuckDB files and datasets beside the home, in their own tmp_path: allowed the
    # way an administrator allows a directory (tests of the confinement itself override it).
    monkeypatch.setenv("PINADS_ALLOWED_ROOTS", str(tmp_path))
    monkeypatch.delenv("PINADS_DATABASE_URL", raising=False)
    monkeypatch.delenv("PINADS_SECRET_KEY", raising=False)
    # In-process unless a test asks for workers or a shared Redis.
    for name in ("PINADS_BROKER_URL", "PINADS_REDIS_URL", "PINADS_REDIS_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    yield home


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    from pinads.emulator import EmulatorConfig

    return EmulatorConfig(seed=7)


@pytest.fixture
def emulator_app(emulator_config: EmulatorConfig) -> Starlette:
    from pinads.emulator import create_app

    return create_app(emulator_config)


@pytest.fixture
def emulator_transport(emulator_app: Starlette) -> Iterator[InProcessTransport]:
    from pinads.emulator import InProcessTransport

    transport = InProcessTransport(emulator_app)
    yield transport
    transport.close()


@pytest.fixture
def emulator_server(emulator_config: EmulatorConfig) -> Iterator[EmulatorServer]:
    from pinads.emulator import EmulatorServer

    with EmulatorServer(emulator_config) as server:
        yield server


@pytest.fixture
def emulator_tokens(emulator_app: Starlette) -> IssuedTokens:
    from pinads.emulator import DEFAULT_USER_ID, DEMO_CLIENT_ID
    from pinads.emulator.tokens import TokenInfo

    state = emulator_app.state.emulator
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    tokens: IssuedTokens = state.tokens.mint(info, now=state.now())
    return tokens


@pytest.fixture
def authorizer(emulator_server: EmulatorServer) -> str:
    import httpx

    from pinads.auth import AuthorizerService
    from pinads.emulator import DEFAULT_USER_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    from pinads.settings import load_settings

    minted = httpx.post(
        f"{emulator_server.base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}
    ).json()
    with AuthorizerService(load_settings()) as service:
        service.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=minted["refresh_token"],
            api_url=emulator_server.api_url,
            label="demo",
        )
    return "demo"


@pytest.fixture(params=["sqlite", "postgresql"])
def control_db_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    import psycopg

    if request.param == "sqlite":
        yield "sqlite"
        return
    name = f"pinads_ctl_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{name}"
    monkeypatch.setenv("PINADS_DATABASE_URL", url)
    yield name
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def stored_bytes(pinads_home: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        import sqlalchemy as sa

        stored = b"".join(p.read_bytes() for p in sorted(pinads_home.rglob("*")) if p.is_file())
        url = os.environ.get("PINADS_DATABASE_URL")
        if url is None:
            return stored
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                tables = sa.inspect(conn).get_table_names()
                assert "sources" in tables  # the control DB's own schema was read
                for table in tables:
                    rows = conn.execute(sa.text(f'SELECT t::text FROM "{table}" t')).scalars()
                    stored += "\n".join(rows).encode()
        finally:
            engine.dispose()
        assert b":***@" in stored  # the rows were read: a saved source's redacted destination
        return stored

    return read
