"""Authorizers, sources, runs and backfill progress repositories on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pinads.errors import ConfigError, StateError
from pinads.state import BackfillBatch, ControlDB, NewAuthorizer, RunStatus, StoredTokens
from pinads.values import RunKind

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _tokens(tag: str) -> StoredTokens:
    return StoredTokens(
        access_token_enc=f"enc-access-{tag}",
        refresh_token_enc=f"enc-refresh-{tag}",
        access_expires_at=NOW + timedelta(days=30),
        refresh_expires_at=NOW + timedelta(days=60),
        scopes=("ads:read", "user_accounts:read"),
    )


def _new(label: str = "main") -> NewAuthorizer:
    return NewAuthorizer(
        label=label,
        api_url="http://emulator.test/v5",
        client_id="pinads-demo",
        client_secret_enc="enc-secret",
        tokens=_tokens("1"),
        pinterest_user_id="1000000000000001",
        pinterest_username="demo",
    )


def test_authorizer_round_trip_find_by_label_or_id(db: ControlDB) -> None:
    record = db.authorizers.insert(_new())
    assert db.authorizers.find("main") == record
    assert db.authorizers.find(str(record.id)) == record
    assert db.authorizers.find(record.id) == record
    assert record.scopes == ("ads:read", "user_accounts:read")
    assert record.access_expires_at == NOW + timedelta(days=30)
    assert record.access_expires_at is not None and record.access_expires_at.tzinfo is not None
    assert "enc-access" not in repr(record)
    with pytest.raises(ConfigError, match=r"no authorizer 'nope' \(authorizers: main\)"):
        db.authorizers.find("nope")
    with pytest.raises(ConfigError, match="an authorizer labelled 'main' exists"):
        db.authorizers.insert(_new())


def test_rename_save_tokens_and_mark_revoked(db: ControlDB) -> None:
    first = db.authorizers.insert(_new())
    db.authorizers.insert(_new("other"))
    with pytest.raises(ConfigError, match="labelled 'other' exists"):
        db.authorizers.rename(first.id, "other")
    db.sources.create("by_label", {"authorizer": "main", "x": 1}, authorizer_id=None)
    db.sources.create("by_id", {"authorizer": str(first.id)}, authorizer_id=first.id)
    renamed = db.authorizers.rename(first.id, "shop")
    assert renamed.label == "shop"
    assert db.sources.get("by_label").config == {"authorizer": "shop", "x": 1}
    assert db.sources.get("by_id").config == {"authorizer": str(first.id)}
    db.authorizers.save_tokens(first.id, _tokens("2"))
    saved = db.authorizers.get(first.id)
    assert saved.refresh_token_enc == "enc-refresh-2"
    assert not saved.is_revoked
    revoked = db.authorizers.mark_revoked(first.id)
    assert revoked.is_revoked
    assert revoked.access_token_enc is None
    assert revoked.refresh_token_enc is None
    with pytest.raises(StateError, match="deleted or revoked while in use"):
        db.authorizers.save_tokens(first.id, _tokens("3"))  # a late rotation must not revive it
    db.authorizers.save_tokens(first.id, _tokens("3"), reactivate=True)  # re-authorized
    assert not db.authorizers.get(first.id).is_revoked
    with pytest.raises(StateError, match="deleted or revoked"):
        db.authorizers.save_tokens(9999, _tokens("4"))


def test_delete_refused_while_a_source_uses_the_authorizer(db: ControlDB) -> None:
    used_by_fk = db.authorizers.insert(_new("a"))
    used_by_label = db.authorizers.insert(_new("b"))
    unused = db.authorizers.insert(_new("c"))
    db.sources.create("s_fk", {"dataset": "campaigns"}, authorizer_id=used_by_fk.id)
    db.sources.create("s_label", {"authorizer": "b"}, authorizer_id=None)
    with pytest.raises(ConfigError, match=r"'a' is used by source\(s\) s_fk"):
        db.authorizers.delete(used_by_fk.id)
    with pytest.raises(ConfigError, match=r"'b' is used by source\(s\) s_label"):
        db.authorizers.delete(used_by_label.id)
    db.authorizers.delete(unused.id)
    assert [r.label for r in db.authorizers.all()] == ["a", "b"]
    db.sources.delete("s_fk")
    db.authorizers.delete(used_by_fk.id)
    assert [r.label for r in db.authorizers.all()] == ["b"]


def test_rename_relabels_the_sources_that_name_the_old_label(db: ControlDB) -> None:
    record = db.authorizers.insert(_new("old"))
    other = db.authorizers.insert(_new("other"))
    db.sources.create("by_label", {"authorizer": "old", "a": [1]}, authorizer_id=record.id)
    db.sources.create("by_id", {"authorizer": str(record.id)}, authorizer_id=record.id)
    db.sources.create("elsewhere", {"authorizer": "other"}, authorizer_id=other.id)
    before = db.sources.get("by_label").updated_at
    db.authorizers.rename(record.id, "renamed")
    assert db.sources.get("by_label").config == {"authorizer": "renamed", "a": [1]}
    assert db.sources.get("by_label").updated_at >= before
    assert db.sources.get("by_id").config == {"authorizer": str(record.id)}
    assert db.sources.get("elsewhere").config == {"authorizer": "other"}
    with pytest.raises(ConfigError, match=r"'renamed' is used by source\(s\) by_id, by_label"):
        db.authorizers.delete(record.id)
    # A clash leaves the label and the sources' configs as they were (one transaction).
    with pytest.raises(ConfigError, match="labelled 'other' exists"):
        db.authorizers.rename(record.id, "other")
    assert db.authorizers.get(record.id).label == "renamed"
    assert db.sources.get("by_label").config["authorizer"] == "renamed"


def test_sources_crud(db: ControlDB) -> None:
    auth = db.authorizers.insert(_new())
    config = {"dataset": "campaign_analytics", "schedule": {"daily": "06:00"}, "accounts": ["1"]}
    created = db.sources.create("daily", config, authorizer_id=auth.id)
    assert created.config == config
    assert db.sources.get(created.id) == created
    with pytest.raises(ConfigError, match="a source named 'daily' exists"):
        db.sources.create("daily", config, authorizer_id=auth.id)
    updated = db.sources.update("daily", {**config, "accounts": ["2"]}, authorizer_id=None)
    assert updated.config["accounts"] == ["2"]
    assert updated.authorizer_id is None
    assert [s.name for s in db.sources.all()] == ["daily"]
    db.sources.delete("daily")
    with pytest.raises(ConfigError, match=r"no source 'daily' \(sources: none yet\)"):
        db.sources.get("daily")


def test_run_history_and_backfill_progress(db: ControlDB) -> None:
    source = db.sources.create("s", {}, authorizer_id=None)
    first = db.runs.start(
        source.id, kind=RunKind.BACKFILL, range_start=date(2024, 1, 1), range_end=date(2024, 12, 31)
    )
    assert first.status is RunStatus.RUNNING
    db.runs.acquire_run_lock(source.id, first.id)
    done = db.runs.finish(
        first.id, status=RunStatus.SUCCEEDED, rows_written=1234, api_calls=17, rate_limited_waits=2
    )
    assert (done.status, done.rows_written, done.api_calls, done.rate_limited_waits) == (
        RunStatus.SUCCEEDED,
        1234,
        17,
        2,
    )
    assert done.duration_seconds is not None and done.duration_seconds >= 0
    assert db.runs.lock_of(source.id) is None  # finish releases the lock
    second = db.runs.start(source.id, kind=RunKind.MANUAL)
    db.runs.finish(second.id, status=RunStatus.FAILED, error="No data retrieved")
    assert [r.id for r in db.runs.recent(source.id)] == [second.id, first.id]
    assert db.runs.recent(limit=1)[0].error == "No data retrieved"
    for batch, status in ((0, "done"), (1, "running"), (1, "done")):
        db.runs.record_batch(
            BackfillBatch(
                run_id=first.id,
                batch=batch,
                source_id=source.id,
                range_start=date(2024, 1, 1),
                range_end=date(2024, 6, 30),
                status=status,
                rows_written=10 * (batch + 1),
                updated_at=NOW,
            )
        )
    assert [(b.batch, b.status, b.rows_written) for b in db.runs.batches(first.id)] == [
        (0, "done", 10),
        (1, "done", 20),
    ]
    with pytest.raises(StateError, match="no run 'missing'"):
        db.runs.get("missing")
