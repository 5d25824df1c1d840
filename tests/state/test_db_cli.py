"""`pinads db current` and `pinads db upgrade`, and the one line any other command logs when
it upgrades an old control DB on first use."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pinads.cli import app
from pinads.settings import load_settings
from pinads.state import HEAD, SecretBox

from .test_legacy_upgrade import make_control_version

FIXTURE = Path(__file__).parent / "fixtures" / "legacy_control_db.sqlite.sql"
KEY = "cGluYWRzLWxlZ2FjeS1maXh0dXJlLWtleS0zMmJ5dGU="  # the fixture's key, not a real secret
runner = CliRunner()


def _db(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["db", *args])
    return result.exit_code, result.output


def _legacy_home() -> Path:
    settings = load_settings()
    settings.ensure_home()
    with sqlite3.connect(settings.home / "pinads.db") as conn:
        conn.executescript(FIXTURE.read_text())
    return settings.home


def test_current_and_upgrade_on_a_new_control_db() -> None:
    code, out = _db("current")
    assert code == 0
    assert out.endswith("pinads.db: empty; `pinads db upgrade` creates its tables\n"), out
    assert _db("upgrade")[1].endswith(f"schema none -> {HEAD}\n")
    assert _db("upgrade")[1].endswith(f"schema {HEAD}, already the newest\n")
    assert _db("current")[1].endswith(f"schema {HEAD} (newest {HEAD}); up to date\n")


def test_current_and_upgrade_on_a_control_db_of_the_hand_written_migrations() -> None:
    _legacy_home()
    code, out = _db("current")
    assert code == 0
    assert "hand-written schema 6/2 (from before Alembic); `pinads db upgrade` migrates" in out
    assert _db("upgrade")[1].endswith(f"schema legacy 6/2 -> {HEAD}\n")


def test_a_hand_written_version_no_release_made_is_named_and_refused() -> None:
    home = _legacy_home()
    with sqlite3.connect(home / "pinads.db") as conn:
        conn.execute("INSERT INTO schema_version VALUES (7, 'a development build', '2026-12-01')")
    code, out = _db("current")
    assert code == 0
    assert "hand-written schema 7/2 (from before Alembic); no released pinads made it" in out
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code != 0
    assert "hand-written schema version 7" in str(result.exception)


def test_upgrade_of_a_wave_1_control_db_seals_its_destination_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PINADS_SECRET_KEY", KEY)
    home = _legacy_home()
    make_control_version(f"sqlite:///{home / 'pinads.db'}", 4)
    assert "hand-written schema 4/2" in _db("current")[1]
    code, out = _db("upgrade")
    assert code == 0, out
    assert out.endswith(f"schema legacy 4/2 -> {HEAD}\n")
    with sqlite3.connect(home / "pinads.db") as conn:
        (config, sealed), *_ = conn.execute(
            "SELECT config, destination_enc FROM sources WHERE name = 'shop'"
        ).fetchall()
    assert "dest-pass-9" not in config
    assert "dest-pass-9" in SecretBox(KEY.encode()).decrypt(sealed).get_secret_value()


def test_any_command_upgrades_an_old_control_db_with_one_line() -> None:
    home = _legacy_home()
    env = {**os.environ, "PINADS_HOME": str(home), "PINADS_SECRET_KEY": KEY}
    done = subprocess.run(
        [sys.executable, "-m", "pinads", "sources", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "shop" in done.stdout and "ads" in done.stdout
    logged = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(logged) == 1 and f"schema legacy 6/2 -> {HEAD}" in logged[0], done.stderr
    again = subprocess.run(
        [sys.executable, "-m", "pinads", "sources", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert (again.returncode, again.stderr) == (0, "")
