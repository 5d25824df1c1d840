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
from cryptography.fernet import Fernet

from pinads.emulator import DEMO_CLIENT_SECRET
from pinads.errors import PinadsError, StateError
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


def _load_fixture(url: str, name: str = "legacy") -> None:
    """Load `<name>_control_db.<backend>.sql` (PostgreSQL: into the URL's schema, which the
    dump names `<name>_fixture`)."""
    backend = _backend(url)
    dump = (FIXTURES / f"{name}_control_db.{backend}.sql").read_text()
    if backend == "sqlite":
        load_settings().ensure_home()
        with sqlite3.connect(sa.engine.make_url(url).database or "") as conn:
            conn.executescript(dump)
        return
    schema = unquote(url).rsplit("search_path=", 1)[1]
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(dump.replace(f"{name}_fixture", schema).encode())


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


def _assert_control_rows_kept(db: ControlDB, version: int = 6) -> None:
    """The fixture's rows, as far as control `version` had their tables."""
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
    if version < 2:
        assert db.runs.recent(shop.id) == []
        return
    (run,) = db.runs.recent(shop.id)
    assert (run.id, run.status.value, run.rows_written, run.api_calls) == (
        "a" * 16,
        "failed",
        150,
        12,
    )
    batches = [(b.range_start, b.range_end, b.rows_written) for b in db.runs.batches(run.id)]
    assert batches == ([] if version < 3 else [(date(2026, 10, 1), date(2026, 10, 15), 150)])
    plan = db.plans.latest_backfill(shop.id, start=date(2026, 10, 1), end=date(2026, 10, 31))
    if version < 4:
        assert plan is None
    else:
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


def _unseal_destinations(url: str) -> None:
    """What a source looked like before control version 5: its destination password in clear
    in `config`, no `destination_enc`."""
    sources = sa.table("sources", sa.column("id"), sa.column("config", sa.JSON))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for source_id, config in conn.execute(sa.select(sources.c.id, sources.c.config)).all():
            if "***" in config.get("destination", ""):
                clear = {**config, "destination": DESTINATION}
                conn.execute(sources.update().where(sources.c.id == source_id).values(config=clear))
    engine.dispose()
    _execute(url, "ALTER TABLE sources DROP COLUMN destination_enc")


# What each hand-written control version before 5 lacked (applied from the newest down).
_ADDED_IN = {
    4: ["DROP TABLE run_plans"],
    3: [
        "DROP TABLE backfill_progress",
        "ALTER TABLE authorizers DROP COLUMN revoked_at",
        "ALTER TABLE authorizers DROP COLUMN rate_tier",
    ],
    2: ["DROP TABLE run_locks", "DROP TABLE runs"],
}
_ORPHAN = (  # a checkpoint of a source deleted before deletions took its rows along
    "INSERT INTO backfill_progress VALUES "
    "('bbbbbbbbbbbbbbbb', 1, 99, '2026-09-01', '2026-09-30', 'done', 7, '2026-12-01 10:00:00')"
)


def make_control_version(url: str, version: int) -> None:
    _execute(
        url,
        "DROP TABLE slot_claims",
        "DROP TABLE scheduler_leases",
        f"DELETE FROM schema_version WHERE version > {version}",
    )
    _unseal_destinations(url)
    if version < 4 and _backend(url) == "postgresql":
        # Versions 1-3 made their tables without foreign keys (SQLite's stay so).
        _execute(url, *(f"ALTER TABLE {t} DROP CONSTRAINT {k}" for t, k in _KEYS))
    for newer in sorted(_ADDED_IN, reverse=True):
        if newer > version:
            _execute(url, *_ADDED_IN[newer])
    if version >= 3:
        _execute(url, _ORPHAN)


_KEYS = (
    ("sources", "fk_sources_authorizer"),
    ("runs", "fk_runs_source"),
    ("run_locks", "fk_run_locks_source"),
)


def _sources_storage(url: str) -> bytes:
    """SQLite: every byte of the database file and its WAL; PostgreSQL: the identity of the
    `sources` table's file (a rewrite gives it a new one)."""
    if _backend(url) == "sqlite":
        path = Path(sa.engine.make_url(url).database or "")
        files = sorted(path.parent.glob(f"{path.name}*"))
        return b"".join(p.read_bytes() for p in files)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        node = conn.execute(sa.text("SELECT pg_relation_filenode('sources')")).scalar()
    engine.dispose()
    return str(node).encode()


def test_a_clear_password_leaves_no_copy_behind(legacy_url: str) -> None:
    make_control_version(legacy_url, 4)
    before = _sources_storage(legacy_url)
    if _backend(legacy_url) == "sqlite":
        assert b"dest-pass-9" in before  # what the check would find
    open_control_db(url=legacy_url)
    after = _sources_storage(legacy_url)
    if _backend(legacy_url) == "sqlite":
        assert b"dest-pass-9" not in after
    assert after != before  # PostgreSQL: the table was rewritten without its dead rows


@pytest.mark.parametrize("version", [4, 3, 2, 1])
def test_a_wave_1_database_is_upgraded_in_place(legacy_url: str, version: int) -> None:
    make_control_version(legacy_url, version)
    db = open_control_db(url=legacy_url)
    assert schema_differences(db.engine) == []
    with db.engine.connect() as conn:
        assert current_revisions(conn) == (HEAD,)
        stored = conn.execute(sa.text("SELECT config FROM sources WHERE name = 'shop'")).scalar()
        orphans = conn.execute(
            sa.text("SELECT count(*) FROM backfill_progress WHERE source_id = 99")
        )
        assert orphans.scalar() == 0
    # The password that sat in clear is now only in `destination_enc`, encrypted.
    assert "dest-pass-9" not in str(stored)
    _assert_control_rows_kept(db, version)
    _assert_web_rows_kept(db, API_TOKENS[_backend(legacy_url)])
    assert db.authorizers.find("demo").rate_tier == "standard"


def test_a_wave_1_password_with_an_unusable_secret_key_changes_nothing(
    legacy_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_control_version(legacy_url, 4)
    monkeypatch.setenv("PINADS_SECRET_KEY", "not a valid key")
    with pytest.raises(PinadsError, match="PINADS_SECRET_KEY is not a valid"):
        open_control_db(url=legacy_url)
    _assert_still_version_4(legacy_url)


def _assert_still_version_4(url: str) -> None:
    """Nothing of an upgrade that failed is left: version 4, the password in clear."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert current_revisions(conn) == ()
        versions = conn.execute(sa.text("SELECT max(version) FROM schema_version")).scalar()
        config = conn.execute(sa.text("SELECT config FROM sources WHERE name = 'shop'")).scalar()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("sources")}
    engine.dispose()
    assert versions == 4
    assert "dest-pass-9" in str(config)
    assert "destination_enc" not in columns


@pytest.mark.parametrize("key", ["other", "none"])
def test_a_wave_1_password_is_not_sealed_with_another_key(
    legacy_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: str
) -> None:
    """Another installation's key, or none (a shell without PINADS_SECRET_KEY, whose new key
    file would be made on the spot), cannot open the tokens already stored: the upgrade stops
    before the password is encrypted with it and lost to the right key."""
    make_control_version(legacy_url, 4)
    if key == "other":
        monkeypatch.setenv("PINADS_SECRET_KEY", Fernet.generate_key().decode())
    else:
        monkeypatch.delenv("PINADS_SECRET_KEY")
        monkeypatch.setenv("PINADS_HOME", str(tmp_path / "elsewhere"))
    with pytest.raises(StateError, match="cannot decrypt the secrets already in the control DB"):
        open_control_db(url=legacy_url)
    _assert_still_version_4(legacy_url)
    monkeypatch.setenv("PINADS_SECRET_KEY", KEY)  # with the right key it goes through
    _assert_control_rows_kept(open_control_db(url=legacy_url), 4)


def test_an_unknown_legacy_version_is_refused_and_left_as_it_was(legacy_url: str) -> None:
    _execute(
        legacy_url,
        "INSERT INTO schema_version VALUES (7, 'from a development build', '2026-12-01 10:00:00')",
    )
    with pytest.raises(StateError, match=r"hand-written schema version 7 .* new control DB"):
        open_control_db(url=legacy_url)
    engine = sa.create_engine(legacy_url)
    with engine.connect() as conn:
        assert current_revisions(conn) == ()
        count = conn.execute(sa.text("SELECT count(*) FROM sources")).scalar()
    engine.dispose()
    assert count == 2


WAVE_1_DESTINATION = "postgresql://loader:dest-pass-9@127.0.0.1:9/warehouse"


def test_a_database_made_by_wave_1_itself_is_upgraded(
    control_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dumps of fixtures/make_wave1_fixture.sh: wave 1's last commit (control version 4,
    web version 1) driven through its CLI: an authorizer, a source per destination kind, a run
    and a backfill with its checkpoint and plan, a deleted source, a web user and a token."""
    monkeypatch.setenv("PINADS_SECRET_KEY", KEY)
    _load_fixture(control_url, "wave1")
    db = open_control_db(url=control_url)
    with db.engine.connect() as conn:
        assert current_revisions(conn) == (HEAD,)
    assert schema_differences(db.engine) == []
    demo = db.authorizers.find("demo")
    box = SecretBox.from_settings(load_settings())
    assert box.decrypt(demo.client_secret_enc).get_secret_value() == DEMO_CLIENT_SECRET
    assert (demo.pinterest_username, demo.rate_tier) == ("hearth_home_marketing", "standard")
    ads, shop = db.sources.get("ads"), db.sources.get("shop")
    assert shop.config["destination"] == "postgresql://loader:***@127.0.0.1:9/warehouse"
    assert db.sources.destination(shop) == WAVE_1_DESTINATION
    runs = {run.kind.value: run for run in db.runs.recent(ads.id)}
    assert {k: (r.status.value, r.rows_written) for k, r in runs.items()} == {
        "manual": ("succeeded", 210),
        "backfill": ("succeeded", 427),
    }
    (batch,) = db.runs.batches(runs["backfill"].id)
    assert (batch.range_start, batch.range_end, batch.rows_written) == (
        date(2026, 9, 1),
        date(2026, 10, 31),
        427,
    )
    assert db.plans.latest_backfill(ads.id, start=date(2026, 9, 1), end=date(2026, 10, 31))
    users = WebUsers(db)
    assert users.authenticate("admin", "correct horse battery")
    token = (FIXTURES / f"wave1_token.{_backend(control_url)}.txt").read_text().strip()
    use = users.token_use(token)
    assert use is not None and use[0] == "admin"
    assert db.sources.create("new", {"dataset": "campaigns"}, authorizer_id=None).id > shop.id
