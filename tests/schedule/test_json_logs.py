"""`--log-format json`: every log line of a command is one JSON object with its fields, and
secrets in messages and fields are redacted."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from pinads.cli.logs import JsonFormatter
from pinads.emulator import EUR_ADVERTISER_ID
from pinads.runner import SourceStore
from pinads.schedule import utc_now
from pinads.settings import load_settings
from pinads.sources.config import SourceConfig
from pinads.state.schema import SOURCES


def _save_due(tmp_path: Path, name: str) -> None:
    """A daily source created two days ago (its latest slot is due) whose authorizer is gone."""
    store = SourceStore(load_settings())
    try:
        store.save(
            SourceConfig.model_validate(
                {
                    "name": name,
                    "dataset": "campaigns",
                    "authorizer": "nobody",
                    "accounts": [EUR_ADVERTISER_ID],
                    "destination": f"duckdb:///{tmp_path}/warehouse.duckdb",
                    "schedule": "daily 06:00",
                }
            )
        )
        with store.db.engine.begin() as conn:
            conn.execute(
                SOURCES.update()
                .where(SOURCES.c.name == name)
                .values(created_at=utc_now() - timedelta(days=2))
            )
    finally:
        store.close()


def test_run_due_logs_one_json_object_per_line_with_the_source_as_a_field(
    tmp_path: Path,
) -> None:
    _save_due(tmp_path, "no_auth")
    done = subprocess.run(
        [sys.executable, "-m", "pinads", "--log-format", "json", "run-due"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 1  # the run failed
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(e["level"], e.get("outcome")) for e in lines] == [
        ("info", None),
        ("error", "failed"),
    ]
    assert all(e["logger"] == "pinads.schedule" and e["source"] == "no_auth" for e in lines)
    assert lines[1]["message"].startswith("failed no_auth: ")
    assert "nobody" in lines[1]["message"]
    assert lines[0]["ts"].endswith("+00:00") and lines[0]["slot"].endswith("06:00:00+00:00")


def test_the_env_variable_chooses_json_too_and_bad_values_are_one_line(tmp_path: Path) -> None:
    _save_due(tmp_path, "no_auth")
    env = {**os.environ, "PINADS_LOG_FORMAT": "json"}
    done = subprocess.run(
        [sys.executable, "-m", "pinads", "run-due"],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
    assert len([json.loads(line) for line in done.stderr.splitlines()]) == 2
    env["PINADS_LOG_FORMAT"] = "xml"
    bad = subprocess.run(
        [sys.executable, "-m", "pinads", "run-due"],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
    assert bad.returncode == 2
    assert len(bad.stderr.splitlines()) == 1 and "'xml' is not one of 'text', 'json'" in bad.stderr


def test_secrets_in_messages_fields_and_tracebacks_are_redacted() -> None:
    secret = "pina_AbCdEf0123456789secret"
    try:
        raise RuntimeError(f"access_token={secret}")
    except RuntimeError:
        failure = sys.exc_info()
    record = logging.makeLogRecord(
        {
            "name": "pinads.test",
            "levelno": logging.ERROR,
            "levelname": "ERROR",
            "msg": "calling with Bearer %s",
            "args": (secret,),
            "exc_info": failure,
            # extra fields, as `extra=` puts them on a record
            "refresh_token": "plain-value-of-a-token",
            "url": "postgresql://loader:hunter2pass@db.example/warehouse",
            "nested": {"password": "x", "ok": 3},
        }
    )
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert secret not in line and "hunter2pass" not in line and "plain-value" not in line
    assert entry["message"] == "calling with Bearer ***"
    assert entry["refresh_token"] == "***"
    assert entry["url"] == "postgresql://loader:***@db.example/warehouse"
    assert entry["nested"] == {"password": "***", "ok": 3}
    assert "RuntimeError: access_token=***" in entry["exception"]
