"""Control DB fixtures: every test runs against SQLite (in PINADS_HOME) and PostgreSQL (a
fresh schema per test, selected with search_path, dropped afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from pinads.settings import load_settings
from pinads.state import ControlDB, open_control_db

PG = "postgresql://postgres@127.0.0.1:5432/test"


def _server_up() -> bool:
    try:
        with psycopg.connect(PG, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


PG_UP = _server_up()


@pytest.fixture(params=["sqlite", "postgresql"])
def control_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield load_settings().control_db_url
        return
    if not PG_UP:
        pytest.skip(f"PostgreSQL is not running at {PG}: the PostgreSQL variant is skipped")
    schema = f"pinads_state_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
        )
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def db(control_url: str) -> Iterator[ControlDB]:
    load_settings().ensure_home()
    control = open_control_db(url=control_url)
    yield control
    control.close()
