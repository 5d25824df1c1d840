"""The bad-input corpus: cases read from tests/contract/bad_inputs/ plus the ones that must be
generated (too large to keep, or not files at all), and the harness that runs them.

Used by tests/contract/test_bad_inputs.py and bench/bad_inputs.py (which times every case).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

HERE = Path(__file__).parent / "bad_inputs"
# Destinations the corpus names outside PINADS_HOME: refused, so never created.
WATCHED = (Path("/tmp/pinads-corpus"), Path("/etc/pinads-corpus.duckdb"), Path("/some/dir"))
GOOD_SOURCE = {"name": "good", "dataset": "campaign_analytics", "authorizer": "demo"}
# Tables that change when nothing is saved: the web's logins, sessions, tokens and audit trail.
_VOLATILE_TABLE_WORDS = ("token", "session", "audit", "login", "user", "web_schema")


@dataclass(frozen=True)
class SourceFileCase:
    """`pinads sources create --file F` where F holds `content` (or is the path `path`)."""

    name: str
    expected: str
    content: bytes | None = None
    path: str | None = None
    make: Callable[[Path], Path] | None = None


@dataclass(frozen=True)
class CliCase:
    name: str
    args: tuple[str, ...]
    exit_code: int
    expected: str


@dataclass(frozen=True)
class ApiCase:
    name: str
    method: str
    path: str
    status: int
    expected: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _sections(text: str) -> Iterator[tuple[str, str, str]]:
    """(header fields, body) of each `=== a | b` section (lines before the first are notes)."""
    header: str | None = None
    lines: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("=== "):
            if header is not None:
                yield _split_header(header, "".join(lines))
            header, lines = line[4:].strip(), []
        elif header is not None:
            lines.append(line)
    if header is not None:
        yield _split_header(header, "".join(lines))


def _split_header(header: str, body: str) -> tuple[str, str, str]:
    name, _, rest = header.partition(" | ")
    return name.strip(), rest.strip(), body


def source_file_cases() -> list[SourceFileCase]:
    text = (HERE / "source_files.txt").read_text()
    written = [
        SourceFileCase(name, expected, content=body.encode())
        for name, expected, body in _sections(text)
    ]
    return written + generated_source_cases()


def _bomb(levels: int, width: int) -> bytes:
    lines = ["name: bomb", "dataset: campaign_analytics", "authorizer: demo"]
    lines.append("metrics: &a0 [" + ", ".join(["SPEND_IN_DOLLAR"] * width) + "]")
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"x{level}: &a{level} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


def _doubling_bomb() -> bytes:
    lines = ["name: bomb", "dataset: campaign_analytics", "authorizer: demo"]
    lines.append("metrics: &a0 [" + ", ".join(["IMPRESSION_1"] * 1000) + "]")
    lines += [f"x{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 9)]
    return ("\n".join(lines) + "\n").encode()


def _names(count: int, *, prefix: str = "M") -> str:
    return ", ".join(f"{prefix}{i}" for i in range(count))


def _fifo(directory: Path) -> Path:
    path = directory / "pipe.yaml"
    if not path.exists():
        os.mkfifo(path)
    return path


def generated_source_cases() -> list[SourceFileCase]:
    base = "name: shop\ndataset: campaign_analytics\nauthorizer: demo\n"
    long_text = "x" * 5000
    nested = "[" * 5000 + "]" * 5000
    return [
        SourceFileCase("alias-bomb-9x9", "more than 20 YAML aliases", content=_bomb(9, 9)),
        SourceFileCase("alias-bomb-doubling", "expands to more than", content=_doubling_bomb()),
        SourceFileCase(
            "alias-recursive",
            "recursive YAML alias",
            content=(base + "metrics: &m [IMPRESSION_1, *m]\n").encode(),
        ),
        SourceFileCase(
            "file-over-256-kib",
            "larger than 256 KiB",
            content=(base + "metrics: [" + _names(40_000) + "]\n").encode(),
        ),
        SourceFileCase(
            "file-10-mb-metric-string",
            "larger than 256 KiB",
            content=(base + 'metrics: "' + _names(1_000_000) + '"\n').encode(),
        ),
        SourceFileCase(
            "metrics-1001-items",
            "metrics: lists 1,001 items: at most 1,000",
            content=(base + "metrics: [" + _names(1001) + "]\n").encode(),
        ),
        SourceFileCase(
            "attributes-5000-items",
            "attributes: lists 5,000 items",
            content=(base + "attributes: [" + _names(5000, prefix="A") + "]\n").encode(),
        ),
        SourceFileCase(
            "accounts-2000-items",
            "accounts: lists 2,000 items",
            content=(base + "accounts: [" + _names(2000, prefix="") + "]\n").encode(),
        ),
        SourceFileCase(
            "metrics-1200-in-a-string",
            "lists 1,200 names: at most 1,000",
            content=(base + "metrics: " + ",".join(_two_char_names()[:1200]) + "\n").encode(),
        ),
        SourceFileCase(
            "unknown-metrics-900",
            "more unknown metrics",
            content=(base + "metrics: [" + _names(900, prefix="NOPE_") + "]\n").encode(),
        ),
        SourceFileCase(
            "string-5000-chars",
            "authorizer: is 5,000 characters long",
            content=f"name: shop\ndataset: campaign_analytics\nauthorizer: {long_text}\n".encode(),
        ),
        SourceFileCase(
            "destination-5000-chars",
            "destination: is 5,010 characters long",
            content=(base + f"destination: duckdb:///{long_text}\n").encode(),
        ),
        SourceFileCase(
            "deeply-nested-list",
            "exceeded maximum nesting depth",
            content=(base + f"metrics: {nested}\n").encode(),
        ),
        SourceFileCase(
            "many-settings",
            "settings: a source has at most",
            content=(base + "".join(f"k{i}: {i}\n" for i in range(100))).encode(),
        ),
        SourceFileCase(
            "binary-junk", "is not UTF-8 text", content=bytes(range(256)) * 8 + b"\xff\xfe"
        ),
        SourceFileCase("utf16-file", "is not UTF-8 text", content=base.encode("utf-16")),
        SourceFileCase("nul-bytes", "is not valid YAML", content=b"name: shop\x00\x00\n"),
        SourceFileCase("dev-zero", "is a device, pipe or socket", path="/dev/zero"),
        SourceFileCase("dev-urandom", "is a device, pipe or socket", path="/dev/urandom"),
        SourceFileCase("dev-null", "is a device, pipe or socket", path="/dev/null"),
        SourceFileCase("a-directory", "is a directory", path="/tmp"),
        SourceFileCase("missing-file", "No such file or directory", path="/nonexistent/x.yaml"),
        SourceFileCase("a-fifo", "is a device, pipe or socket", make=_fifo),
    ]


def _two_char_names() -> list[str]:
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return [a + b for a in chars for b in chars]


def cli_cases() -> list[CliCase]:
    cases = []
    for line in (HERE / "cli_args.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, code, expected, args = (part.strip() for part in line.split(" | ", 3))
        cases.append(CliCase(name, tuple(shlex.split(args)), int(code), expected))
    return cases


def api_cases() -> list[ApiCase]:
    cases = []
    for header, expected, body in _sections((HERE / "api_bodies.txt").read_text()):
        name, method, path, status = header.split()
        cases.append(ApiCase(name, method, path, int(status), expected, body.strip().encode()))
    return cases + generated_api_cases()


def generated_api_cases() -> list[ApiCase]:
    doc = {"name": "shop", "dataset": "campaign_analytics", "authorizer": "demo"}

    def body(**extra: Any) -> bytes:
        return json.dumps({**doc, **extra}).encode()

    names_100k = [f"M{i}" for i in range(100_000)]
    return [
        ApiCase(
            "api-100k-metric-names",
            "POST",
            "/api/sources",
            400,
            "metrics: lists 100,000 items",
            body(metrics=names_100k),
        ),
        ApiCase(
            "api-200k-metric-names",
            "POST",
            "/api/sources",
            413,
            "larger than 1024 KiB",
            body(metrics=names_100k * 2),
        ),
        ApiCase(
            "api-50k-metric-names",
            "POST",
            "/api/sources",
            400,
            "metrics: lists 50,000 items",
            body(metrics=names_100k[:50_000]),
        ),
        ApiCase(
            "api-1001-metric-names",
            "POST",
            "/api/sources",
            400,
            "lists 1,001 items",
            body(metrics=names_100k[:1001]),
        ),
        ApiCase(
            "api-900-unknown-metrics",
            "POST",
            "/api/sources",
            400,
            "more unknown metrics",
            body(metrics=[f"NOPE_{i}" for i in range(900)]),
        ),
        ApiCase(
            "api-put-100k-names",
            "PUT",
            "/api/sources/good",
            400,
            "metrics: lists 100,000 items",
            body(name="good", metrics=names_100k),
        ),
        ApiCase(
            "api-preview-200k-names",
            "POST",
            "/api/preview",
            413,
            "larger than 1024 KiB",
            json.dumps({"source": {**doc, "metrics": names_100k * 2}}).encode(),
        ),
        ApiCase(
            "api-two-mib-of-spaces",
            "POST",
            "/api/sources",
            413,
            "larger than 1024 KiB",
            b" " * (2 * 1024 * 1024),
        ),
        ApiCase(
            "api-long-string",
            "POST",
            "/api/sources",
            400,
            "authorizer: is 100,000 characters long",
            body(authorizer="d" * 100_000),
        ),
        ApiCase(
            "api-deep-nesting",
            "POST",
            "/api/sources",
            400,
            "holds more than 10,000 values",
            body(metrics=json.loads("[" * 500 + "]" * 500), x=[[1] * 999] * 11),
        ),
        ApiCase(
            "api-validate-selection-2000",
            "POST",
            "/api/validate-selection",
            422,
            "at most 1000",
            json.dumps({"dataset": "campaign_analytics", "metrics": names_100k[:2000]}).encode(),
        ),
    ]


# -- harness --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    home: Path
    files: Path
    client: TestClient
    token: str


@contextlib.contextmanager
def corpus_environment(root: Path, patch: pytest.MonkeyPatch) -> Iterator[Corpus]:
    """A PINADS_HOME under `root` (environment set through `patch`) with the authorizer `demo`
    on a loopback emulator, the saved source `good`, and a web user with an API token."""
    from pinads.emulator import EmulatorConfig, EmulatorServer

    patch.setenv("PINADS_HOME", str(root / "home"))
    patch.delenv("PINADS_DATABASE_URL", raising=False)
    patch.delenv("PINADS_SECRET_KEY", raising=False)
    patch.setenv("COLUMNS", "250")
    # Destinations of the corpus point here, so their other faults are the ones reported.
    patch.setenv("PINADS_ALLOWED_ROOTS", "/tmp/pinads-corpus")
    with EmulatorServer(EmulatorConfig(seed=7)) as server:
        yield _prepare(root, server.base_url, server.api_url)


def _prepare(root: Path, base_url: str, api_url: str) -> Corpus:
    from pinads.auth import AuthorizerService
    from pinads.emulator import DEFAULT_USER_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    from pinads.runner import service
    from pinads.settings import load_settings
    from pinads.state import open_control_db
    from pinads.web.app import create_app
    from pinads.web.users import WebUsers

    minted = httpx.post(f"{base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}).json()
    settings = load_settings()
    with AuthorizerService(settings) as authorizers:
        authorizers.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=minted["refresh_token"],
            api_url=api_url,
            label="demo",
        )
    service.create_source(GOOD_SOURCE, settings=settings)
    store = WebUsers(open_control_db(settings))
    store.set_user("admin", "correct horse battery")
    token = store.create_token(name="corpus", username="admin")
    store.db.close()
    files = root / "files"
    files.mkdir()
    _write_edit_files(files)
    client = TestClient(create_app(settings), base_url="http://127.0.0.1:8000")
    return Corpus(home=root / "home", files=files, client=client, token=token)


def _write_edit_files(files: Path) -> None:
    base = "dataset: campaign_analytics\nauthorizer: demo\n"
    (files / "good.yaml").write_text("name: good\n" + base)
    (files / "other.yaml").write_text("name: other\n" + base)
    (files / "good-bad-metric.yaml").write_text("name: good\n" + base + "metrics: [NOPE]\n")
    (files / "good-bad-destination.yaml").write_text(
        "name: good\n" + base + "destination: gopher://x\n"
    )
    (files / "good-duplicates.yaml").write_text(
        "name: good\n" + base + "metrics: [IMPRESSION_1, IMPRESSION_1]\n"
    )


def case_path(corpus: Corpus, case: SourceFileCase) -> Path:
    """The file a source-file case hands to `sources create --file`."""
    if case.path is not None:
        return Path(case.path)
    if case.make is not None:
        return case.make(corpus.files)
    path = corpus.files / f"{case.name}.yaml"
    assert case.content is not None
    path.write_bytes(case.content)
    return path


def api_request(corpus: Corpus, case: ApiCase) -> httpx.Response:
    # Typed by hand: starlette's TestClient is typed against a client package not installed.
    response: httpx.Response = corpus.client.request(
        case.method,
        case.path,
        content=case.body or None,
        headers={
            "Authorization": f"Bearer {corpus.token}",
            "Content-Type": "application/json",
            **case.headers,
        },
    )
    return response


@dataclass(frozen=True)
class CliOutcome:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: list[str], *, stdin: str = "") -> CliOutcome:
    """`pinads ARGS` in this process through `pinads.cli.main` (what the console script runs),
    its output captured; the process-wide hooks main() installs are put back after."""
    from pinads.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = (sys.argv, sys.stdin, threading.excepthook, sys.unraisablehook)
    sys.argv, sys.stdin = ["pinads", *args], io.StringIO(stdin)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv, sys.stdin, threading.excepthook, sys.unraisablehook = saved
    return CliOutcome(code, out.getvalue(), err.getvalue())


def state_snapshot(home: Path, *, watched: tuple[Path, ...] = ()) -> dict[str, Any]:
    """What a refused input must not change: every file under PINADS_HOME (and `watched`
    paths outside it) with its size, and every row of the control DB's pinads tables."""
    files = {
        str(p.relative_to(home)): p.stat().st_size
        for p in sorted(home.rglob("*"))
        if p.is_file() and not p.name.startswith("pinads.db")
    }
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with contextlib.closing(sqlite3.connect(home / "pinads.db")) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in sorted(tables):
            if any(word in table for word in _VOLATILE_TABLE_WORDS):
                continue
            rows[table] = sorted(map(tuple, db.execute(f'SELECT * FROM "{table}"')), key=repr)
    outside = {str(path): path.exists() for path in watched}
    return {"files": files, "rows": rows, "outside": outside}
