"""`pinads doctor` on a healthy installation and on one broken in every way it checks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import httpx
import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from pinads.auth import AuthorizerService
from pinads.cli import app
from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EUR_ADVERTISER_ID,
    EmulatorServer,
)
from pinads.runner import SourceStore
from pinads.schedule import utc_now
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig
from pinads.state import LeaseKeeper, open_control_db
from pinads.state.schema import SOURCES


def _doctor() -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["doctor"], env={"COLUMNS": "300"})
    return result.exit_code, result.output.splitlines()


def _add_authorizer(server: EmulatorServer, label: str) -> None:
    minted = httpx.post(
        f"{server.base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}
    ).json()
    with AuthorizerService(load_settings()) as service:
        service.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=minted["refresh_token"],
            api_url=server.api_url,
            label=label,
        )


def _save(
    tmp_path: Path, name: str, *, authorizer: str, schedule: str = "daily 06:00", days_ago: int = 0
) -> None:
    store = SourceStore(load_settings())
    try:
        store.save(
            SourceConfig.model_validate(
                {
                    "name": name,
                    "dataset": "campaigns",
                    "authorizer": authorizer,
                    "accounts": [EUR_ADVERTISER_ID],
                    "destination": f"duckdb:///{tmp_path}/{name}.duckdb",
                    "schedule": schedule,
                }
            )
        )
        if days_ago:  # the control DB stamps creation itself: move it back
            with store.db.engine.begin() as conn:
                conn.execute(
                    SOURCES.update()
                    .where(SOURCES.c.name == name)
                    .values(created_at=utc_now() - timedelta(days=days_ago))
                )
    finally:
        store.close()


def test_a_healthy_installation_is_all_ok(emulator_server: EmulatorServer, tmp_path: Path) -> None:
    _add_authorizer(emulator_server, "demo")
    _save(tmp_path, "shop", authorizer="demo")
    with open_control_db() as db, LeaseKeeper(db.schedule, ttl=timedelta(minutes=1)) as lease:
        code, lines = _doctor()  # while a scheduler holds the lease, as `pinads scheduler` does
    assert code == 0, lines
    assert [line.split()[0] for line in lines[:-1]] == ["ok"] * 5
    assert lines[1].startswith("ok      secret key: ") and "decrypts the stored secrets" in lines[1]
    assert lines[2] == "ok      authorizer demo: alive (used by shop)"
    assert lines[3].startswith(f"ok      destination of shop: duckdb:///{tmp_path}/shop.duckdb")
    assert lines[4] == (
        f"ok      scheduler: the scheduler ({lease.holder}) is alive; every scheduled run is "
        "on time"
    )
    assert lines[-1] == "doctor: 5 ok, 0 warning(s), 0 error(s)"
    code, lines = _doctor()  # the scheduler stopped: nothing late yet, but nobody serving
    assert code == 0
    assert lines[4].startswith("warning scheduler: no `pinads scheduler` is running; 1 scheduled")
    assert lines[-1] == "doctor: 4 ok, 1 warning(s), 0 error(s)"


def test_a_broken_installation_says_what_to_fix_and_exits_1(
    emulator_server: EmulatorServer, tmp_path: Path
) -> None:
    _add_authorizer(emulator_server, "demo")
    _add_authorizer(emulator_server, "gone")
    _add_authorizer(emulator_server, "spare")
    with AuthorizerService(load_settings()) as service:
        service.db.authorizers.mark_revoked(service.get("gone").id)
        service.db.authorizers.mark_revoked(service.get("spare").id)
    _save(tmp_path, "late", authorizer="demo", days_ago=2)
    _save(tmp_path, "orphan", authorizer="gone", schedule="manual")
    _save(tmp_path, "theirs", authorizer="demo", schedule="manual")
    with duckdb.connect(str(tmp_path / "theirs.duckdb")) as con:
        con.execute("CREATE TABLE theirs (x INTEGER)")  # someone else's table of that name
    code, lines = _doctor()
    assert code == 1
    text = "\n".join(lines)
    assert (
        "error   authorizer gone: needs re-authorization: it was revoked (used by orphan)\n"
        "        fix: `pinads auth reauthorize gone`"
    ) in text
    assert (
        "warning authorizer spare: needs re-authorization: it was revoked (used by no source)"
        in text
    )
    assert "error   destination of theirs: table 'theirs' already exists in the DuckDB" in text
    assert "pinads did not create it" in text
    assert "ok      destination of late: " in text
    assert (
        "error   scheduler: no scheduler is serving the schedules: not started: late (due "
    ) in text
    assert "fix: run `pinads scheduler` (a systemd service), or `pinads run-due` from cron" in text
    assert lines[-1] == "doctor: 5 ok, 1 warning(s), 3 error(s)"


def test_a_secret_key_that_does_not_decrypt_the_stored_secrets(
    emulator_server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_authorizer(emulator_server, "demo")
    monkeypatch.setenv("PINADS_SECRET_KEY", Fernet.generate_key().decode())
    code, lines = _doctor()
    assert code == 1
    assert lines[1].startswith(
        "error   secret key: a stored secret cannot be decrypted with PINADS_SECRET_KEY"
    )


def test_a_missing_key_file_with_stored_secrets_is_an_error(
    emulator_server: EmulatorServer, pinads_home: Path
) -> None:
    _add_authorizer(emulator_server, "demo")
    (pinads_home / "secret.key").unlink()
    code, lines = _doctor()
    assert code == 1
    assert f"error   secret key: {pinads_home}/secret.key is missing" in lines[1]
    assert not (pinads_home / "secret.key").exists()  # doctor made no new key


def test_an_unreachable_control_db_is_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINADS_DATABASE_URL", "postgresql+psycopg://pinads:pw@127.0.0.1:1/none")
    code, lines = _doctor()
    assert code == 1
    assert lines[0].startswith(
        "error   control DB: postgresql+psycopg://pinads:***@127.0.0.1:1/none cannot be opened"
    )
    assert "fix: check PINADS_DATABASE_URL" in lines[1]
    assert lines[-1] == "doctor: 0 ok, 0 warning(s), 1 error(s)"
