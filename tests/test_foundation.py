"""The foundation: settings, the error tree's redaction, the spec extract, the CLI shell."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pinads.errors import ApiError, ConfigError, PinadsError, redact
from pinads.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_settings_follow_pinads_home(pinads_home: Path) -> None:
    settings = load_settings()
    assert settings.home == pinads_home
    assert settings.control_db_url == f"sqlite:///{pinads_home / 'pinads.db'}"
    assert settings.default_duckdb_path == pinads_home / "pinads.duckdb"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer pina_AbCdEf123456789", "pina_AbCdEf123456789"),
        ("refresh_token=pinr_SECRETSECRET&grant_type=x", "pinr_SECRETSECRET"),
        ('{"client_secret": "s3cr3t-value"}', "s3cr3t-value"),
        ("https://x/cb?code=abc123&state=1", "abc123"),
        ("Basic cGluYWRzOnNlY3JldA==", "cGluYWRzOnNlY3JldA=="),
    ],
)
def test_redact_removes_credentials(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert "***" in redact(text)


def test_errors_redact_their_message() -> None:
    err = ApiError("failed with Bearer pina_TOKENTOKENTOKEN", status=401, code=2)
    assert "pina_TOKEN" not in str(err)
    assert err.status == 401 and err.code == 2
    assert isinstance(ConfigError("x"), PinadsError)
    assert ConfigError("x").exit_code == 2


def test_spec_extract_is_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_spec_extract.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_usage_error_is_one_line_and_nonzero() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pinads", "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "No such command" in result.stderr
