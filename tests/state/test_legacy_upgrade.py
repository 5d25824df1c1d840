"""Control DBs made by the hand-written migrations (before Alembic) are adopted: stamped with
the revisions of their versions, upgraded, and every row kept.

The fixtures are dumps of a control DB made by pinads of commit b28e786 (control version 6,
web version 2) with `PINADS_SECRET_KEY` = `KEY`: an authorizer with encrypted tokens, two
sources (one destination password encrypted), a backfill run with a checkpoint and its plan,
the scheduler lease, a web user with an API token, a web session, an audit entry and a failed
login. Older combinations of versions are derived from them by dropping what was added later.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pinads.errors import StateError
from pinads.settings import load_settings
from pinads.state import HEAD, ControlDB, SecretBox, current_revisions, open_control_db
from pinads.state.db import utc_now
from pinads.state.schema import METADATA
from pinads.web.users import WebUsers

FIXTURES = Path(__file__).parent / "fixtures"
PG = "postgresql://postgres@127.0.0.1:5432/test"
KEY = "cGluYWRzLWxlZ2FjeS1maXh0dXJlLWtleS0zMmJ5dGU="  # the fixtures' key, not a real secret
API_TOKENS = {  # made with the fixtures (only their SHA-256 is stored)
    "sqlite": "pinads_JLKygNECU98BfjSPp6ELD-6auZvZLjPTxodeXWNwBbA",
    "postgresql": "pinads_WFLrITqyyC-1XUVM7aFiTa3YwPZO-Xy9JFiUW3bi7dI",
}
DESTINATION = "postgresql://loader:dest-pass-9@db.example/warehouse"
CONTROL_TABLES = (
    "run_plans",
    "backfill_progress",
    "run_locks",
    "slot_claims",
    "scheduler_leases",
    "runs",
    "sources",
    "authorizers",
    "schema_version",
)
WEB_TABLES = ("users", "api_tokens", "web_sessions", "login_failures", "audit_log")


def schema_differences(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, METADATA))


def _backend(url: str) -> str:
    return sa.engine.make_url(url).get_backend_name()


def _load_fixture(url: str) -> None:
    backend = _backend(url)
    dump = (FIXTURES / f"legacy_control_db.{backend}.sql").read_text()
    if backend == "sqlite":
        load_settings().ensure_home()
        with sqlite3.connect(sa.engine.make_url(url).database or "") as conn:
            conn.executescript(dump)
        return
    schema = unquote(url).rsplit("search_path=", 1)[1]
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(dump.replace("legacy_fixture", schema).encode())


def _execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)  # plain: foreign keys off on SQLite, as the old code's
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


@pytest.fixture
def legacy_url(control_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PINADS_SECRET_KEY", KEY)
    _load_fixture(control_url)
    yield control_url


def _assert_control_rows_kept(db: ControlDB) -> None:
    box = SecretBox.from_settings(load_settings())
    demo = db.authorizers.find("demo")
    assert box.decrypt(demo.client_secret_enc).get_secret_value() == "app-secret-1"
    assert demo.access_token_enc and demo.refresh_token_enc
    assert box.decrypt(demo.access_token_enc).get_secret_value() == "pina_ACCESS1"
    assert box.decrypt(demo.refresh_token_enc).get_secret_value() == "pinr_REFRESH1"
    assert (demo.scopes, demo.rate_tier) == (("ads:read", "user_accounts:read"), "standard")
    assert demo.pinterest_username == "demo_user"
    assert sorted(s.name for s in db.sources.all()) == ["ads", "shop"]
    shop = db.sources.get("shop")
    assert shop.authorizer_id == demo.id
    assert shop.config["destination"] == "postgresql://loader:***@db.example/warehouse"
    assert db.sources.destination(shop) == DESTINATION
    (run,) = db.runs.recent(shop.id)
    assert (run.id, run.status.value, run.rows_written, run.api_calls) == (
        "a" * 16,
        "failed",
        150,
        12,
    )
    (batch,) = db.runs.batches(run.id)
    assert (batch.range_start, batch.range_end, batch.rows_written) == (
        date(2026, 10, 1),
        date(2026, 10, 15),
        150,
    )
    plan = db.plans.latest_backfill(shop.id, start=date(2026, 10, 1), end=date(2026, 10, 31))
    assert plan is not None and plan.plan == {"version": 1, "steps": [{"id": "s1"}]}


def _assert_web_rows_kept(db: ControlDB, token: str) -> None:
    users = WebUsers(db)
    assert users.authenticate("admin", "correct horse battery")
    use = users.token_use(token)
    assert use is not None and use[0] == "admin"
    assert str(users.role("admin")) in {"admin", "Role.ADMIN"}
    assert [e.action for e in db.audit.entries(limit=10)] == ["source.create"]
    old = utc_now() - timedelta(days=3650)
    assert [len(t) for t in db.login_failures.times([("user", "mallory")], after=old)] == [1]
    with db.engine.connect() as conn:
        sessions = conn.execute(sa.text("SELECT username FROM web_sessions")).scalars().all()
    assert sessions == ["admin"]


def test_legacy_database_is_adopted_without_losing_a_row(legacy_url: str) -> None:
    db = open_control_db(url=legacy_url)
    _assert_control_rows_kept(db)
    _assert_web_rows_kept(db, API_TOKENS[_backend(legacy_url)])
    assert db.schedule.lease_holder("scheduler") == ("host:1", _lease_expiry(db))
    tables = set(sa.inspect(db.engine).get_table_names())
    assert not {"schema_version", "web_schema_version"} & tables
    with db.engine.connect() as conn:
        assert current_revisions(conn) == (HEAD,)
    assert schema_differences(db.engine) == []
    # New rows get new ids (PostgreSQL's sequences came along).
    added = db.sources.create("new", {"dataset": "campaigns"}, authorizer_id=None)
    assert added.id == 3
    assert WebUsers(db).set_user("second", "another password")


def _lease_expiry(db: ControlDB) -> datetime:
    holder = db.schedule.lease_holder("scheduler")
    assert holder is not None
    return holder[1]


@pytest.mark.parametrize(
    ("versions", "statements"),
    [
        (
            "control 5, web 2",
            [
                "DROP TABLE slot_claims",
                "DROP TABLE scheduler_leases",
                "DELETE FROM schema_version WHERE version = 6",
            ],
        ),
        (
            "control 6, web 1",
            [
                "DROP TABLE web_sessions",
                "DROP TABLE login_failures",
                "DROP TABLE audit_log",
                "DELETE FROM web_schema_version WHERE version = 2",
            ],
        ),
        (
            "control 6, no web",
            [*(f"DROP TABLE {t}" for t in WEB_TABLES), "DROP TABLE web_schema_version"],
        ),
        ("web 2, no control", [f"DROP TABLE {t}" for t in CONTROL_TABLES]),
    ],
)
def test_every_combination_of_legacy_versions_is_adopted(
    legacy_url: str, versions: str, statements: list[str]
) -> None:
    _execute(legacy_url, *statements)
    db = open_control_db(url=legacy_url)
    assert schema_differences(db.engine) == [], versions
    with db.engine.connect() as conn:
        assert current_revisions(conn) == (HEAD,)
    if "no control" not in versions:
        _assert_control_rows_kept(db)
    if "web 2" in versions:
        _assert_web_rows_kept(db, API_TOKENS[_backend(legacy_url)])
    if "web 1" in versions:
        assert WebUsers(db).authenticate("admin", "correct horse battery")


def test_legacy_version_before_5_is_refused_and_left_as_it_was(legacy_url: str) -> None:
    _execute(legacy_url, "DELETE FROM schema_version WHERE version >= 5")
    with pytest.raises(StateError, match=r"hand-written schema version 4 .* commit \w+"):
        open_control_db(url=legacy_url)
    engine = sa.create_engine(legacy_url)
    with engine.connect() as conn:
        assert current_revisions(conn) == ()
        count = conn.execute(sa.text("SELECT count(*) FROM sources")).scalar()
    engine.dispose()
    assert count == 2
