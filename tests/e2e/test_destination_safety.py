"""What pinads does not own, it does not touch, as a user meets it through the CLI: a table of
the user's named like a source is refused (exit 2, rows intact), a directory reached with `..`
or outside the allowed roots is refused, and a dropped table is loaded again by the next
backfill instead of being reported done."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from pinads.cli import app
from pinads.emulator import EUR_ADVERTISER_ID, EmulatorServer


def pinads(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return getattr(result.exception, "exit_code", 1), f"{result.output}{result.exception}"
    return result.exit_code, result.output


def _create_source(
    tmp_path: Path, *, destination: str, write_mode: str = "upsert"
) -> tuple[int, str]:
    path = tmp_path / "campaign_daily.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "campaign_daily",
                "dataset": "campaign_analytics",
                "authorizer": "demo",
                "accounts": [EUR_ADVERTISER_ID],
                "attributes": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
                "metrics": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"],
                "date_range": "last_7_days",
                "write_mode": write_mode,
                "destination": destination,
            }
        )
    )
    return pinads("sources", "create", "--file", str(path))


def _create_and_run(tmp_path: Path, *, destination: str, write_mode: str) -> tuple[int, str]:
    """Create the source and run it: the refusal comes from whichever checks the destination
    first (source create checks it once its validation is wired to check_destination_url)."""
    code, output = _create_source(tmp_path, destination=destination, write_mode=write_mode)
    if code != 0:
        return code, output
    return pinads("run", "campaign_daily")


def _user_table(path: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path)) as conn:
        return conn.execute("SELECT * FROM campaign_daily ORDER BY 1").fetchall()


@pytest.mark.parametrize("write_mode", ["replace", "upsert", "append"])
def test_a_users_table_named_like_the_source_is_refused_and_kept(
    authorizer: str, tmp_path: Path, write_mode: str
) -> None:
    path = tmp_path / "ads.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE campaign_daily (day DATE, note VARCHAR)")
        conn.execute(
            "INSERT INTO campaign_daily VALUES ('2026-01-01', 'mine'), ('2026-01-02', 'x')"
        )
    before = _user_table(path)
    code, output = _create_and_run(tmp_path, destination=f"duckdb://{path}", write_mode=write_mode)
    assert code == 2, output
    line = output.strip().splitlines()[-1]
    assert "table 'campaign_daily' already exists in the DuckDB file" in line
    assert "pinads did not create it" in line and "rename the source" in line
    assert "Traceback" not in output
    assert _user_table(path) == before
    with duckdb.connect(str(path)) as conn:
        columns = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'campaign_daily'"
        ).fetchall()
        runs = conn.execute("SELECT count(*) FROM _pinads_checkpoints").fetchone()
    assert [c[0] for c in columns] == ["day", "note"]  # no column added
    assert runs == (0,)


def _precious(tmp_path: Path) -> Path:
    precious = tmp_path / "photos" / "campaign_daily"
    precious.mkdir(parents=True)
    (precious / "holiday.jpg").write_bytes(b"\xff\xd8 not a dataset")
    return precious


def test_a_directory_reached_with_dot_dot_is_refused_and_kept(
    authorizer: str, tmp_path: Path
) -> None:
    precious = _precious(tmp_path)
    sneaky = f"file://{tmp_path}/pinads-home/../photos?format=csv"
    code, output = _create_and_run(tmp_path, destination=sneaky, write_mode="replace")
    assert code == 2, output
    assert "'..' is not allowed in the path" in output and "Traceback" not in output
    assert sorted(p.name for p in precious.iterdir()) == ["holiday.jpg"]


def test_a_directory_pinads_did_not_create_is_refused_and_kept(
    authorizer: str, tmp_path: Path
) -> None:
    precious = _precious(tmp_path)
    plain = f"file://{tmp_path}/photos?format=csv"
    code, output = _create_and_run(tmp_path, destination=plain, write_mode="replace")
    assert code == 2, output
    assert f"{precious} already exists and pinads did not create it" in output
    assert sorted(p.name for p in precious.iterdir()) == ["holiday.jpg"]


def test_a_directory_outside_the_allowed_roots_is_refused(
    authorizer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    precious = _precious(tmp_path)
    monkeypatch.setenv("PINADS_ALLOWED_ROOTS", str(tmp_path / "pinads-home"))
    plain = f"file://{tmp_path}/photos?format=csv"
    code, output = _create_and_run(tmp_path, destination=plain, write_mode="replace")
    assert code == 2, output
    assert "is outside the directories pinads may write" in output
    assert f"PINADS_ALLOWED_ROOTS={tmp_path}/photos" in output
    assert sorted(p.name for p in precious.iterdir()) == ["holiday.jpg"]


def test_a_dropped_table_is_loaded_again_by_the_next_backfill(
    authorizer: str, emulator_server: EmulatorServer, tmp_path: Path
) -> None:
    path = tmp_path / "ads.duckdb"
    assert _create_source(tmp_path, destination=f"duckdb://{path}")[0] == 0
    today = emulator_server.state.today()
    start, end = today - timedelta(days=300), today - timedelta(days=200)
    backfill = ["backfill", "campaign_daily", "--from", str(start), "--to", str(end)]

    code, first = pinads(*backfill)
    assert code == 0, first
    with duckdb.connect(str(path)) as conn:
        rows = conn.execute("SELECT * FROM campaign_daily ORDER BY ALL").fetchall()
        conn.execute("DROP TABLE campaign_daily")
    assert rows

    code, again = pinads(*backfill)
    assert code == 0, again
    assert "(0 already done)" in again
    assert "table campaign_daily was gone from the destination" in again
    with duckdb.connect(str(path)) as conn:
        reloaded = conn.execute("SELECT * FROM campaign_daily ORDER BY ALL").fetchall()
    key = slice(0, 3)  # date, account, campaign: the metadata columns carry the new run's id
    assert sorted(r[key] for r in reloaded) == sorted(r[key] for r in rows)

    code, resumed = pinads(*backfill)
    assert code == 0 and "already done)" in resumed and "(0 already done)" not in resumed

    code, restarted = pinads(*backfill, "--restart")
    assert code == 0, restarted
    assert "(0 already done)" in restarted
