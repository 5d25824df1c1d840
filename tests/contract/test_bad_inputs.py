"""The bad-input corpus (issue 11): source files, command lines and JSON API requests that
pinads must refuse with one clear line, the documented exit code (2 for config) or a 4xx
JSON error, no traceback, and nothing saved, created or changed.

The cases live in tests/contract/bad_inputs/ (plus generated ones: alias bombs, oversized
files, devices; see bad_input_corpus.py). CLI cases run in-process through `pinads.cli.main`
so the corpus stays fast; a few run as real subprocesses. Per-case timings are measured by
bench/bad_inputs.py, not here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bad_input_corpus import (
    GOOD_SOURCE,
    WATCHED,
    ApiCase,
    CliCase,
    Corpus,
    SourceFileCase,
    api_cases,
    api_request,
    case_path,
    cli_cases,
    corpus_environment,
    run_cli,
    source_file_cases,
    state_snapshot,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    """One PINADS_HOME for the whole corpus (see `corpus_environment`); each case must leave it
    as it was."""
    patch = pytest.MonkeyPatch()
    try:
        with corpus_environment(tmp_path_factory.mktemp("corpus"), patch) as prepared:
            yield prepared
    finally:
        patch.undo()


@pytest.fixture(autouse=True)
def pinads_home(corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every case runs in the corpus' home (replaces the per-test home of tests/conftest.py)."""
    monkeypatch.setenv("PINADS_HOME", str(corpus.home))
    return corpus.home


def assert_one_clear_line(stderr: str, expected: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert lines[0].startswith("error: "), lines[0]
    assert expected in lines[0], lines[0]
    assert "Traceback" not in stderr
    assert len(lines[0]) < 2_000, "one line a person can read"


# -- source files ----------------------------------------------------------------------------


SOURCE_CASES = source_file_cases()


@pytest.mark.parametrize("case", SOURCE_CASES, ids=[c.name for c in SOURCE_CASES])
def test_bad_source_file_is_refused(corpus: Corpus, case: SourceFileCase) -> None:
    path = case_path(corpus, case)
    before = state_snapshot(corpus.home, watched=WATCHED)
    outcome = run_cli(["sources", "create", "--file", str(path)])
    assert outcome.exit_code == 2, outcome
    assert_one_clear_line(outcome.stderr, case.expected)
    assert outcome.stdout == ""
    assert state_snapshot(corpus.home, watched=WATCHED) == before


def test_secrets_in_a_refused_destination_are_not_shown(corpus: Corpus) -> None:
    path = corpus.files / "secret.yaml"
    path.write_text(
        "name: shop\ndataset: campaign_analytics\nauthorizer: demo\n"
        "destination: postgresql://postgres:s3cret-pw@127.0.0.1:notaport/test\n"
    )
    outcome = run_cli(["sources", "create", "--file", str(path)])
    assert outcome.exit_code == 2
    assert "s3cret-pw" not in outcome.stderr + outcome.stdout


# -- command lines ---------------------------------------------------------------------------


CLI_CASES = cli_cases()


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_bad_command_line_is_refused(corpus: Corpus, case: CliCase) -> None:
    args = [arg.replace("{dir}", str(corpus.files)) for arg in case.args]
    before = state_snapshot(corpus.home, watched=WATCHED)
    outcome = run_cli(args)
    assert outcome.exit_code == case.exit_code, outcome
    assert_one_clear_line(outcome.stderr, case.expected)
    assert state_snapshot(corpus.home, watched=WATCHED) == before


# -- JSON API --------------------------------------------------------------------------------


API_CASES = api_cases()


@pytest.mark.parametrize("case", API_CASES, ids=[c.name for c in API_CASES])
def test_bad_api_request_is_refused(corpus: Corpus, case: ApiCase) -> None:
    before = state_snapshot(corpus.home, watched=WATCHED)
    response = api_request(corpus, case)
    assert response.status_code == case.status, response.text
    assert response.headers["content-type"].startswith("application/json")
    detail: Any = response.json()["detail"]
    assert case.expected in str(detail), detail
    assert "Traceback" not in response.text
    assert state_snapshot(corpus.home, watched=WATCHED) == before


def test_a_chunked_body_past_the_cap_is_refused_unread(corpus: Corpus) -> None:
    """No Content-Length (a chunked body): read up to 1 MiB + 1 byte, then 413."""

    def chunks() -> Iterator[bytes]:
        for _ in range(64):  # 4 MiB offered in 64 KiB chunks
            yield b" " * 65_536

    before = state_snapshot(corpus.home)
    response = corpus.client.post(
        "/api/sources",
        content=chunks(),
        headers={"Authorization": f"Bearer {corpus.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "larger than 1024 KiB" in response.json()["detail"]
    assert state_snapshot(corpus.home) == before


# -- saved sources that are no longer valid ------------------------------------------------------


@pytest.mark.parametrize(
    ("saved", "expected"),
    [
        ({"destination": "mysql://root@localhost/ads"}, "unknown kind of destination"),
        ({"destination": "duckdb://relative.duckdb"}, "destination"),
        ({"metrics": ["IMPRESSION_1", "IMPRESSION_1"]}, "lists IMPRESSION_1 more than once"),
        ({"attributes": ["DATE", "DATE", "CAMPAIGN_ID"]}, "lists DATE more than once"),
    ],
    ids=["scheme", "relative", "duplicate-metrics", "duplicate-attributes"],
)
@pytest.mark.parametrize("command", [["run", "legacy"], ["run", "legacy", "--dry-run"]])
def test_run_of_a_source_saved_before_the_checks_is_a_config_error(
    corpus: Corpus, saved: dict[str, Any], expected: str, command: list[str]
) -> None:
    """Sources saved by an older pinads (no check at create) fail before any plan or write."""
    from pinads.runner.store import SourceStore
    from pinads.settings import load_settings
    from pinads.sources.config import SourceConfig

    store = SourceStore(load_settings())
    try:
        store.save(SourceConfig.model_validate({**GOOD_SOURCE, "name": "legacy", **saved}))
    finally:
        store.close()
    try:
        before = state_snapshot(corpus.home, watched=WATCHED)
        outcome = run_cli(command)
        assert outcome.exit_code == 2, outcome
        assert_one_clear_line(outcome.stderr, expected)
        assert "plan for" not in outcome.stdout
        assert state_snapshot(corpus.home, watched=WATCHED) == before
    finally:
        assert run_cli(["sources", "delete", "legacy", "--yes"]).exit_code == 0


# -- real processes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sources", "create", "--file", "/dev/zero"], "is a device, pipe or socket"),
        (["run", "good", "--from", "2026-13-01", "--to", "2026-12-31"], "is not a date"),
        (["run", "--bogus"], "No such option: --bogus"),
        (["preview", "good", "--from", "2019-01-01", "--to", "2019-01-07"], "too old"),
        (["sources", "create", "--file", "{dir}/alias-bomb-9x9.yaml"], "YAML aliases"),
    ],
    ids=["dev-zero", "bad-date", "bad-flag", "preview-too-old", "alias-bomb"],
)
def test_real_process_gives_one_line_and_exit_2(
    corpus: Corpus, args: list[str], expected: str
) -> None:
    from bad_input_corpus import _bomb

    (corpus.files / "alias-bomb-9x9.yaml").write_bytes(_bomb(9, 9))
    argv = [arg.replace("{dir}", str(corpus.files)) for arg in args]
    before = state_snapshot(corpus.home, watched=WATCHED)
    done = subprocess.run(
        [sys.executable, "-m", "pinads", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "PINADS_HOME": str(corpus.home), "COLUMNS": "250"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done
    assert_one_clear_line(done.stderr, expected)
    assert state_snapshot(corpus.home, watched=WATCHED) == before


def test_the_corpus_has_at_least_200_distinct_cases() -> None:
    names = [c.name for c in SOURCE_CASES] + [c.name for c in CLI_CASES]
    names += [c.name for c in API_CASES]
    assert len(names) == len(set(names))
    assert len(names) >= 200
