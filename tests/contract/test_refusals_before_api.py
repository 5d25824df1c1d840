"""A destination that is down or refuses stops a run before any Pinterest API call is spent.

The CLI runs a saved source against the loopback emulator; `/_emulator/stats` counts the API
requests it received before and after the run.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from contract_helpers import postgres_available
from typer.testing import CliRunner

from pinads.cli import app
from pinads.emulator import (
    EUR_ADVERTISER_ID,
    EmulatorServer,
)

runner = CliRunner()
PASSWORD = "hunter2-not-this-one"


class PasswordRefusingServer:
    """A loopback socket that answers like a PostgreSQL server whose password check fails.

    The server on 127.0.0.1:5432 trusts every local client, so a wrong password cannot be
    refused there; this speaks just enough of the protocol (SSL/GSS refused, cleartext password
    asked, FATAL 28P01) for libpq to report exactly what a real server says.
    """

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.attempts = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        while True:
            (length,) = struct.unpack("!i", _read(conn, 4))
            body = _read(conn, length - 4)
            (code,) = struct.unpack("!i", body[:4])
            if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: not supported
                conn.sendall(b"N")
                continue
            break
        user = body[4:].split(b"\x00")
        name = user[user.index(b"user") + 1].decode() if b"user" in user else "?"
        conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        kind = _read(conn, 1)
        (length,) = struct.unpack("!i", _read(conn, 4))
        _read(conn, length - 4)
        if kind == b"p":
            self.attempts += 1
        fields = b"".join(
            tag + text.encode() + b"\x00"
            for tag, text in (
                (b"S", "FATAL"),
                (b"V", "FATAL"),
                (b"C", "28P01"),
                (b"M", f'password authentication failed for user "{name}"'),
            )
        )
        conn.sendall(b"E" + struct.pack("!i", len(fields) + 5) + fields + b"\x00")

    def close(self) -> None:
        self.sock.close()


def _read(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def refusing_server() -> Iterator[PasswordRefusingServer]:
    server = PasswordRefusingServer()
    yield server
    server.close()


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def _pinads(*args: str) -> tuple[int, str]:
    """The real console entry point in its own process: exit code, error line, no traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "pinads", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    return done.returncode, done.stdout + done.stderr


def _api_requests(server: EmulatorServer) -> int:
    return int(httpx.get(f"{server.base_url}/_emulator/stats").json()["requests"])


def _save_source(tmp_path: Path, destination: str) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(
        "name: shop\n"
        "dataset: campaign_analytics\n"
        "authorizer: demo\n"
        f"accounts: [{EUR_ADVERTISER_ID}]\n"
        "attributes: [DATE, AD_ACCOUNT_ID, CAMPAIGN_ID]\n"
        "metrics: [SPEND_IN_MICRO_DOLLAR, IMPRESSION_1]\n"
        "date_range: last_7_days\n"
        f"destination: '{destination}'\n"
    )
    code, output = _invoke("sources", "create", "--file", str(path))
    assert code == 0, output


def _assert_refused_before_any_call(
    server: EmulatorServer, command: list[str], message: str
) -> str:
    before = _api_requests(server)
    code, output = _pinads(*command)
    assert code != 0, output
    assert message in " ".join(output.split()), output
    assert "Traceback" not in output
    assert PASSWORD not in output
    assert _api_requests(server) == before  # not one API call spent
    return output


RUN = ["run", "shop"]
BACKFILL = ["backfill", "shop", "--from", "2026-01-01", "--to", "2026-01-31"]


@pytest.mark.parametrize("command", [RUN, BACKFILL], ids=["run", "backfill"])
def test_postgres_down(
    authorizer: str, emulator_server: EmulatorServer, tmp_path: Path, command: list[str]
) -> None:
    port = _closed_port()
    _save_source(tmp_path, f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/test")
    _assert_refused_before_any_call(
        emulator_server, command, f"PostgreSQL at 127.0.0.1:{port} is not reachable"
    )


def test_postgres_wrong_password(
    authorizer: str,
    emulator_server: EmulatorServer,
    refusing_server: PasswordRefusingServer,
    tmp_path: Path,
) -> None:
    url = f"postgresql://bob:{PASSWORD}@127.0.0.1:{refusing_server.port}/ads?sslmode=prefer"
    _save_source(tmp_path, url)
    _assert_refused_before_any_call(
        emulator_server, RUN, "refused user 'bob' (wrong password or user)"
    )
    assert refusing_server.attempts >= 1  # the password really was sent and refused


@pytest.mark.skipif(not postgres_available(), reason="PostgreSQL is not running")
def test_postgres_missing_database(
    authorizer: str, emulator_server: EmulatorServer, tmp_path: Path
) -> None:
    _save_source(tmp_path, "postgresql://postgres@127.0.0.1:5432/pinads_no_such_db?schema=ads")
    _assert_refused_before_any_call(
        emulator_server, RUN, "database 'pinads_no_such_db' does not exist"
    )


def test_file_destination_that_cannot_be_created(
    authorizer: str, emulator_server: EmulatorServer, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the dataset directory should be\n")
    _save_source(tmp_path, f"file://{blocker}/data?format=parquet")
    _assert_refused_before_any_call(
        emulator_server, RUN, f"{blocker}/data (Not a directory); a file stands where a directory"
    )


def test_the_same_source_runs_once_the_destination_is_fixed(
    authorizer: str, emulator_server: EmulatorServer, tmp_path: Path
) -> None:
    """Control: the run above would have called the API (so zero calls means refused early)."""
    _save_source(tmp_path, f"duckdb:///{tmp_path}/shop.duckdb")
    before = _api_requests(emulator_server)
    code, output = _invoke(*RUN)
    assert code == 0, output
    assert _api_requests(emulator_server) > before
