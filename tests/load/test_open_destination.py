"""Destination URLs and the checks that run before any API call is spent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pinads.errors import ConfigError, LoadError
from pinads.load import DuckDBDestination, open_destination
from pinads.settings import load_settings


def test_bare_duckdb_is_the_default_file_in_pinads_home(pinads_home: Path) -> None:
    dest = open_destination("duckdb", settings=load_settings())
    assert isinstance(dest, DuckDBDestination)
    assert dest.path == pinads_home / "pinads.duckdb"
    dest.check()
    assert (pinads_home / "pinads.duckdb").exists()
    dest.close()


def test_duckdb_url_with_absolute_path(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "ads.duckdb"
    dest = open_destination(f"duckdb://{path}", settings=load_settings())
    assert isinstance(dest, DuckDBDestination)
    assert dest.path == path
    dest.check()
    dest.close()


def test_duckdb_url_sets_threads_and_memory_limit(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path}/ads.duckdb?threads=3&memory_limit=512MB"
    dest = open_destination(url, settings=load_settings())
    assert isinstance(dest, DuckDBDestination)
    assert (dest.path, dest.threads, dest.memory_limit) == (tmp_path / "ads.duckdb", 3, 512 * 10**6)
    dest.check()
    with dest._session() as conn:
        settings = conn.execute(
            "SELECT current_setting('threads'), current_setting('memory_limit')"
        ).fetchone()
    assert settings == (3, "488.2 MiB")  # DuckDB prints 512 MB in MiB
    dest.close()


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("threads=0", r"threads='0' is not a whole number from 1 to 1024"),
        ("threads=two", r"threads='two' is not a whole number"),
        ("memory_limit=lots", r"memory_limit='lots' is not a size such as 512MB or 2GiB"),
        ("memory_limit=1MB", r"memory_limit='1MB' is below DuckDB's working minimum of 16MiB"),
        ("format=csv", r"unknown parameters \['format'\] \(it takes threads, memory_limit\)"),
    ],
)
def test_duckdb_url_settings_are_checked(tmp_path: Path, query: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        open_destination(f"duckdb://{tmp_path}/ads.duckdb?{query}", settings=load_settings())


@pytest.mark.parametrize(
    "url",
    ["", "duckdb://relative.duckdb", "duckdb:///", "mysql://u@h/db", "snowflake", "/tmp/x.duckdb"],
)
def test_invalid_url_says_the_accepted_forms(url: str) -> None:
    with pytest.raises(ConfigError, match=r"duckdb:///absolute/path/file\.duckdb"):
        open_destination(url, settings=load_settings())


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_duckdb_in_unwritable_directory_fails_check(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    dest = open_destination(f"duckdb://{locked}/x.duckdb", settings=load_settings())
    with pytest.raises(LoadError, match=r"x\.duckdb"):
        dest.check()


def test_duckdb_path_under_a_file_fails_check(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    dest = open_destination(f"duckdb://{blocker}/x.duckdb", settings=load_settings())
    with pytest.raises(LoadError, match="writable path"):
        dest.check()


def test_duckdb_file_that_is_not_a_database_fails_check(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_bytes(b"this is not a duckdb file" * 100)
    dest = open_destination(f"duckdb://{bogus}", settings=load_settings())
    with pytest.raises(LoadError, match="cannot open the DuckDB file"):
        dest.check()


def test_duckdb_file_held_by_another_process_fails_check(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            "con = duckdb.connect(sys.argv[1])\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        # Past its wait for the file (a reader's moment, a program left open), it says who.
        dest = DuckDBDestination(path, url=f"duckdb://{path}", busy_seconds=0.5)
        with pytest.raises(LoadError, match=r"open in another process.*close that program"):
            dest.check()
    finally:
        holder.kill()
        holder.wait()
