"""check_destination_url: every invalid destination refused before it is saved, in one line
that shows the URL (password as ***), and DuckDB/file paths confined to the allowed roots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pinads.errors import ConfigError
from pinads.load import check_destination_url, open_destination
from pinads.secret_urls import redact_url
from pinads.settings import load_settings

PASSWORD = "s3cretPW"


def _refusal(url: str) -> str:
    with pytest.raises(ConfigError) as caught:
        check_destination_url(url, load_settings())
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("mysql://u@h/db", "unknown kind of destination"),
        ("duckdb:relative.duckdb", "three slashes and an absolute file path"),
        ("duckdb://relative.duckdb", "three slashes and an absolute file path"),
        ("file://relative/dir?format=csv", "three slashes and an absolute directory"),
        ("file:relative/dir", "three slashes and an absolute directory"),
        ("{tmp}/x.duckdb?threads=0", "threads='0' is not a whole number from 1 to 1024"),
        ("{tmp}/x.duckdb?threads=-1", "threads='-1' is not a whole number"),
        ("{tmp}/x.duckdb?memory_limit=12 parsecs", "is not a size such as 512MB"),
        ("{tmp}/x.duckdb?memory_limit=9999TB", "more than 1PiB"),
        ("{tmp}/x.duckdb?mode=ro", r"unknown parameters ['mode'] (it takes threads, memory_limit)"),
        ("{tmp}/x.duckdb?threads=1&threads=2", "['threads'] are given more than once"),
        ("{tmp}/x.duckdb#frag", "takes no #fragment"),
        ("file://{tmp}/out?format=xlsx", "format 'xlsx' is not parquet, csv or jsonl"),
        ("file://{tmp}/out?format=csv&compress=1", "unknown parameters ['compress']"),
        ("postgresql://u@/db", "names no host"),
        ("postgresql://u@127.0.0.1:5432", "names no database"),
        ("postgresql://u@127.0.0.1:5432/", "names no database"),
        ("postgresql://u@127.0.0.1:70000/db", "port (after host:) is not a number from 1"),
        ("postgresql://u@127.0.0.1:54x2/db", "port (after host:) is not a number"),
        ("postgresql://u@127.0.0.1/db?colour=blue", "unknown parameter 'colour'"),
        ("postgresql://u@127.0.0.1/db?sslmode=always", "sslmode 'always' is not one of"),
        ("postgresql://u@127.0.0.1/db?schema=1bad", "schema '1bad' must be letters"),
    ],
)
def test_invalid_destinations_are_refused_with_the_cause(
    url: str, why: str, tmp_path: Path
) -> None:
    text = url.format(tmp=tmp_path)
    if text.startswith("/"):
        text = f"duckdb://{text}"
    message = _refusal(text)
    assert why in message
    assert f"destination {text!r} is not valid" in message


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://ads:{PASSWORD}@127.0.0.1:99999/db",
        f"postgresql://ads:{PASSWORD}@127.0.0.1/db?colour=blue",
        f"postgresql://ads:{PASSWORD}@127.0.0.1",
        f"postgres://ads:{PASSWORD}@/db",
        f"mysql://ads:{PASSWORD}@127.0.0.1/db",
        f"duckdb://ads:{PASSWORD}@host/x.duckdb",
        f"postgresql://ads:{PASSWORD[:4]}/{PASSWORD[4:]}@127.0.0.1/db",
        f"postgresql://ads:{PASSWORD[:4]}?x={PASSWORD[4:]}@127.0.0.1/db",
        f"postgresql://ads:{PASSWORD[:4]}@{PASSWORD[4:]}@127.0.0.1:1x/db",
        f"postgresql://ads:{PASSWORD[:4]}#{PASSWORD[4:]}@127.0.0.1/db",
        f"postgresql://ads@127.0.0.1/db?password={PASSWORD}&colour=blue",
        f"postgresql://ads:{PASSWORD}@[::1/db",
    ],
)
def test_the_message_shows_the_url_but_never_the_password(url: str) -> None:
    message = _refusal(url)
    assert "***" in message
    assert "<the URL given>" not in message
    for piece in (PASSWORD, PASSWORD[:4], PASSWORD[4:]):
        assert piece not in message


def test_redact_url_hides_only_the_password() -> None:
    assert redact_url(f"postgresql://ads:{PASSWORD}@h:5432/db?schema=x") == (
        "postgresql://ads:***@h:5432/db?schema=x"
    )
    assert redact_url("postgresql://ads@h/db") == "postgresql://ads@h/db"
    assert redact_url("file:///srv/me@work/out?format=csv") == "file:///srv/me@work/out?format=csv"


def test_valid_destinations_pass_without_touching_anything(tmp_path: Path) -> None:
    settings = load_settings()
    before = sorted(tmp_path.rglob("*"))
    for url in (
        "duckdb",
        f"duckdb://{tmp_path}/new/ads.duckdb?threads=2&memory_limit=1GiB",
        f"file://{tmp_path}/out?format=jsonl",
        f"file://{tmp_path}/out/./more//deep",
        "postgresql://ads:pw@127.0.0.1:5432/test?schema=ads&sslmode=prefer&connect_timeout=5",
        "postgres:///test?host=/var/run/postgresql",
    ):
        check_destination_url(url, settings)
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    "path", ["/../../{tmp}/dir", "/{tmp}/a/../../etc", "/{tmp}/%2e%2e/x", "/{tmp}/a/..%2F..%2Fx"]
)
def test_dot_dot_segments_are_refused(path: str, tmp_path: Path) -> None:
    text = path.format(tmp=str(tmp_path).lstrip("/"))
    for url in (f"file://{text}?format=csv", f"duckdb://{text}.duckdb"):
        assert "'..' is not allowed in the path" in _refusal(url)


def test_paths_outside_the_allowed_roots_say_how_to_allow_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PINADS_ALLOWED_ROOTS")
    elsewhere = tmp_path / "elsewhere"
    message = _refusal(f"file://{elsewhere}/exports?format=csv")
    assert f"destination path {elsewhere}/exports is outside the directories" in message
    assert f"PINADS_ALLOWED_ROOTS={elsewhere}/exports" in message
    message = _refusal(f"duckdb://{elsewhere}/ads.duckdb")
    assert f"PINADS_ALLOWED_ROOTS={elsewhere}" in message
    with pytest.raises(ConfigError, match="is outside the directories pinads may write"):
        open_destination(f"duckdb://{elsewhere}/ads.duckdb", settings=load_settings())

    monkeypatch.setenv("PINADS_ALLOWED_ROOTS", f"/nonexistent-root{os.pathsep}{elsewhere}")
    check_destination_url(f"duckdb://{elsewhere}/ads.duckdb", load_settings())
    check_destination_url(f"file://{elsewhere}?format=csv", load_settings())


def test_pinads_home_is_allowed_by_default(
    pinads_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PINADS_ALLOWED_ROOTS")
    check_destination_url(f"duckdb://{pinads_home}/data/ads.duckdb", load_settings())
    check_destination_url(f"file://{pinads_home}/exports?format=parquet", load_settings())


def test_a_symlink_out_of_the_allowed_roots_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (allowed / "link").symlink_to(outside)
    monkeypatch.setenv("PINADS_ALLOWED_ROOTS", str(allowed))
    message = _refusal(f"file://{allowed}/link/exports?format=csv")
    assert f"(that is {outside}/exports)" in message


def test_a_relative_allowed_root_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINADS_ALLOWED_ROOTS", "data/exports")
    message = _refusal("duckdb:///srv/ads.duckdb")
    assert "PINADS_ALLOWED_ROOTS holds 'data/exports', which is not an absolute path" in message


def test_pinads_own_files_are_never_destinations(pinads_home: Path) -> None:
    assert "pinads' own control DB" in _refusal(f"duckdb://{pinads_home}/pinads.db")
    assert "pinads' own key file" in _refusal(f"duckdb://{pinads_home}/secret.key")
