"""`pinads emulator` / `python -m pinads emulator`: prints its URL and credentials, serves."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from pinads.emulator import DEFAULT_USER_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    command = [sys.executable, "-m", "pinads", "emulator", "--port", "0", "--seed", "3",
               "--today", "2026-06-15"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl+C" in line:
            break
    try:
        yield process, lines
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_prints_url_and_credentials_and_answers(
    served: tuple[subprocess.Popen[str], list[str]],
) -> None:
    _, lines = served
    text = "".join(lines)
    assert DEMO_CLIENT_ID in text and DEMO_CLIENT_SECRET in text
    assert "2026-06-15" in text
    match = re.search(r"API base URL\s+(http://127\.0\.0\.1:\d+/v5)", text)
    assert match, text
    api_url = match.group(1)
    base_url = api_url.removesuffix("/v5")
    token = httpx.post(f"{base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}).json()[
        "access_token"
    ]
    me = httpx.get(f"{api_url}/user_account", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["id"] == DEFAULT_USER_ID
    clock = httpx.get(f"{base_url}/_emulator/clock").json()
    assert clock["today"] == "2026-06-15"


def test_bad_today_is_a_config_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pinads", "emulator", "--today", "15/06/2026"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "YYYY-MM-DD" in result.stderr
