"""PostgreSQL destination: URLs and the refusals check() reports before any API call."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pyarrow as pa
import pytest

from pinads.errors import ConfigError, LoadError
from pinads.load import PostgresDestination, open_destination
from pinads.settings import load_settings
from pinads.values import ColumnSpec, TableSpec, WriteMode

PG = "postgresql://postgres@127.0.0.1:5432/test"


def _server_up() -> bool:
    try:
        with psycopg.connect(PG, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


needs_server = pytest.mark.skipif(not _server_up(), reason=f"PostgreSQL is not running at {PG}")


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"pinads_t_{uuid.uuid4().hex[:12]}"
    yield name
    if _server_up():
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _open(url: str) -> PostgresDestination:
    dest = open_destination(url, settings=load_settings())
    assert isinstance(dest, PostgresDestination)
    return dest


def test_url_forms_and_schema() -> None:
    dest = _open("postgres://bob:s3cret@db.example:6543/ads?schema=pinterest&sslmode=disable")
    assert dest.target.schema == "pinterest"
    assert dest.target.where == "db.example:6543/ads"
    assert "s3cret" not in dest.url
    assert "schema" not in dest.target.conninfo
    assert "sslmode=disable" in dest.target.conninfo
    assert _open("postgresql://u@h/db").target.schema == "public"


def test_invalid_schema_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="schema"):
        _open("postgresql://u@h/db?schema=bad-name;drop")


@needs_server
def test_check_creates_the_schema(schema: str) -> None:
    dest = _open(f"{PG}?schema={schema}")
    dest.check()
    with psycopg.connect(PG) as conn:
        found = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name = '_pinads_checkpoints'",
            (schema,),
        ).fetchone()
    assert found == (1,)
    dest.close()


def test_check_on_a_closed_port() -> None:
    dest = _open("postgresql://postgres@127.0.0.1:1/test")
    with pytest.raises(LoadError, match=r"127\.0\.0\.1:1 is not reachable.*start the server"):
        dest.check()


@needs_server
def test_check_on_a_missing_database() -> None:
    dest = _open("postgresql://postgres@127.0.0.1:5432/pinads_no_such_db")
    with pytest.raises(LoadError, match=r"database 'pinads_no_such_db' does not exist.*createdb"):
        dest.check()


@needs_server
def test_check_on_an_unknown_user() -> None:
    dest = _open("postgresql://pinads_nobody:pw@127.0.0.1:5432/test")
    with pytest.raises(LoadError, match="pinads_nobody") as err:
        dest.check()
    assert "pw" not in str(err.value).replace("pinads_nobody", "")


@needs_server
def test_check_on_a_reserved_schema_name() -> None:
    dest = _open(f"{PG}?schema=pg_pinads")
    with pytest.raises(LoadError, match=r"refused.*pg_pinads"):
        dest.check()


@needs_server
def test_check_as_a_user_without_rights(schema: str) -> None:
    role = "pinads_readonly_test"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(
            f"DO $$ BEGIN CREATE ROLE {role} LOGIN; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
        conn.execute(f"REVOKE CREATE ON DATABASE test FROM {role}")
    dest = _open(f"postgresql://{role}@127.0.0.1:5432/test?schema={schema}")
    with pytest.raises(LoadError, match="permission denied"):
        dest.check()


@needs_server
def test_rows_go_to_the_url_schema_and_new_columns_are_added_in_place(schema: str) -> None:
    """`?schema=` holds the tables; a new column is ALTER TABLE ADD COLUMN (a view survives)."""
    base = (
        ColumnSpec(name="id", arrow_type=pa.string(), nullable=False),
        ColumnSpec(name="spend", arrow_type=pa.int64()),
    )
    first = TableSpec(name="evolving_ads", columns=base, key=("id",))
    dest = _open(f"{PG}?schema={schema}")
    rows = pa.RecordBatch.from_pylist([{"id": "a", "spend": 1}], schema=first.schema)
    dest.write_step(first, [rows], mode=WriteMode.UPSERT, scope="s", step_id="1")
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(
            f'CREATE VIEW "{schema}".evolving_ads_view AS '
            f'SELECT id, spend FROM "{schema}".evolving_ads'
        )
        oid = conn.execute("SELECT %s::regclass::oid", (f'"{schema}".evolving_ads',)).fetchone()
    evolved = TableSpec(
        name="evolving_ads",
        columns=(*base, ColumnSpec(name="clicks", arrow_type=pa.int64())),
        key=("id",),
    )
    more = pa.RecordBatch.from_pylist(
        [{"id": "a", "spend": 2, "clicks": 3}, {"id": "b", "spend": 4, "clicks": None}],
        schema=evolved.schema,
    )
    dest.write_step(evolved, [more], mode=WriteMode.UPSERT, scope="s", step_id="2")
    dest.close()
    with psycopg.connect(PG) as conn:
        assert (
            conn.execute("SELECT %s::regclass::oid", (f'"{schema}".evolving_ads',)).fetchone()
            == oid
        )
        got = conn.execute(
            f'SELECT id, spend, clicks FROM "{schema}".evolving_ads ORDER BY id'
        ).fetchall()
        assert got == [("a", 2, 3), ("b", 4, None)]
        assert conn.execute(f'SELECT count(*) FROM "{schema}".evolving_ads_view').fetchone() == (2,)
        elsewhere = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'evolving_ads' "
            "AND table_schema <> %s",
            (schema,),
        ).fetchone()
        assert elsewhere == (0,)
