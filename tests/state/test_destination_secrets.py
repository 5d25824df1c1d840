"""Destination passwords in the control DB: encrypted at rest (SQLite file bytes, PostgreSQL
rows), redacted in the config everything displays, kept by an edit that sends `***` back,
and replaced by a new one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pinads.errors import ConfigError, StateError
from pinads.settings import load_settings
from pinads.state import ControlDB, open_control_db

SECRET = "S3cretPass"
URL = f"postgresql://pinads:{SECRET}@127.0.0.1:5432/test"
SHOWN = "postgresql://pinads:***@127.0.0.1:5432/test"


def stored_text(engine: sa.Engine) -> str:
    """Everything the control DB holds: the files' bytes (SQLite, WAL included) or every row
    of every table (PostgreSQL)."""
    if engine.dialect.name == "sqlite":
        home = load_settings().home
        return b"".join(p.read_bytes() for p in sorted(home.glob("pinads.db*"))).decode("latin-1")
    tables = set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        rows = [
            str(row)
            for table in tables
            for row in conn.execute(sa.text(f"SELECT t::text FROM {table} t")).all()
        ]
    return "\n".join(rows)


def test_password_is_encrypted_at_rest_and_redacted_in_config(db: ControlDB) -> None:
    record = db.sources.create("shop", {"destination": URL, "dataset": "x"}, authorizer_id=None)
    assert record.config == {"destination": SHOWN, "dataset": "x"}
    assert record.destination_enc is not None and SECRET not in record.destination_enc
    assert SECRET not in repr(record)
    assert db.sources.destination(db.sources.get("shop")) == URL
    assert [r.config["destination"] for r in db.sources.all()] == [SHOWN]
    assert SECRET not in stored_text(db.engine)
    db.close()
    assert SECRET not in stored_text(db.engine)


def test_secret_query_parameters_are_encrypted_too(db: ControlDB) -> None:
    url = f"postgres://pinads@127.0.0.1/test?sslpassword={SECRET}&password=Other9&schema=ads"
    record = db.sources.create("shop", {"destination": url}, authorizer_id=None)
    assert record.config["destination"] == (
        "postgres://pinads@127.0.0.1/test?sslpassword=***&password=***&schema=ads"
    )
    assert db.sources.destination(record) == url
    text = stored_text(db.engine)
    assert SECRET not in text and "Other9" not in text


def test_update_with_the_redacted_url_keeps_the_password(db: ControlDB) -> None:
    db.sources.create("shop", {"destination": URL}, authorizer_id=None)
    other_db = f"{SHOWN.removesuffix('/test')}/other?schema=ads"
    record = db.sources.update("shop", {"destination": other_db}, authorizer_id=None)
    assert record.config["destination"] == other_db
    assert db.sources.destination(record) == URL.replace("/test", "/other?schema=ads")


def test_update_with_a_new_password_replaces_it(db: ControlDB) -> None:
    db.sources.create("shop", {"destination": URL}, authorizer_id=None)
    record = db.sources.update(
        "shop", {"destination": URL.replace(SECRET, "N3wPass")}, authorizer_id=None
    )
    assert record.config["destination"] == SHOWN
    assert db.sources.destination(record) == URL.replace(SECRET, "N3wPass")
    record = db.sources.update("shop", {"destination": "duckdb"}, authorizer_id=None)
    assert record.destination_enc is None
    assert db.sources.destination(record) == "duckdb"
    assert "N3wPass" not in stored_text(db.engine)


def test_stored_password_never_follows_the_url_to_another_server(db: ControlDB) -> None:
    db.sources.create("shop", {"destination": URL}, authorizer_id=None)
    for moved in (
        SHOWN.replace("127.0.0.1", "evil.example"),
        SHOWN.replace("5432", "5433"),
        SHOWN.replace("pinads:", "admin:"),
    ):
        with pytest.raises(ConfigError, match="server or user changed: type its password again"):
            db.sources.update("shop", {"destination": moved}, authorizer_id=None)
    assert db.sources.destination(db.sources.get("shop")) == URL


def test_a_new_source_cannot_take_a_password_it_does_not_have(db: ControlDB) -> None:
    db.sources.create("shop", {"destination": URL}, authorizer_id=None)
    with pytest.raises(ConfigError, match=r"has \*\*\* for its password but no stored value"):
        db.sources.create("copy", {"destination": SHOWN}, authorizer_id=None)
    assert db.sources.resolve_destination("shop", SHOWN) == URL
    with pytest.raises(ConfigError, match="no stored value"):
        db.sources.resolve_destination("copy", SHOWN)


def test_another_key_cannot_decrypt_and_says_what_to_do(db: ControlDB, control_url: str) -> None:
    db.sources.create("shop", {"destination": URL}, authorizer_id=None)
    key_file = load_settings().key_file
    key_file.write_bytes(b"0" * 43 + b"=\n")  # another valid Fernet key
    with open_control_db(url=control_url) as other:
        record = other.sources.get("shop")
        assert record.config["destination"] == SHOWN  # showing needs no key
        with pytest.raises(StateError, match="pinads sources edit shop") as info:
            other.sources.destination(record)
    assert SECRET not in str(info.value)
