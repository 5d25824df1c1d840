"""A PostgreSQL destination's password through the CLI: `sources create` from a file (clear or
`${ENV_VAR}`), never in the control DB's bytes or rows, `***` in list/show/edit output and in the
run's output and history, the run itself connecting with the stored password."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from typer.testing import CliRunner

from pinads.cli import app
from pinads.emulator import EUR_ADVERTISER_ID
from pinads.runner.store import SourceStore
from pinads.settings import load_settings

runner = CliRunner()
PG = "postgresql://postgres@127.0.0.1:5432/test"
SECRET = "S3cretPass"


def _server_up() -> bool:
    try:
        with psycopg.connect(PG, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


# Every test here runs with a SQLite and a PostgreSQL control DB (tests/conftest.py).
pytestmark = [
    pytest.mark.skipif(not _server_up(), reason=f"PostgreSQL is not running at {PG}"),
    pytest.mark.usefixtures("control_db_backend"),
]


@pytest.fixture
def schema() -> Iterator[str]:
    """A fresh schema owned by role `pinads` (created if missing; trust auth takes any
    password, which proves the stored one round-trips without knowing the server's)."""
    name = f"pinads_creds_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(
            "DO $$ BEGIN CREATE ROLE pinads LOGIN; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
        conn.execute(f'CREATE SCHEMA "{name}" AUTHORIZATION pinads')
    yield name
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "300", **(env or {})})
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        return int(getattr(error, "exit_code", 1)), f"{result.output}{error}"
    return result.exit_code, result.output


def _source_file(tmp_path: Path, destination: str) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(
        "name: shop\n"
        "dataset: campaign_analytics\n"
        "authorizer: demo\n"
        f"accounts: [{EUR_ADVERTISER_ID}]\n"
        "attributes: [DATE, AD_ACCOUNT_ID, CAMPAIGN_ID]\n"
        "metrics: [SPEND_IN_MICRO_DOLLAR, IMPRESSION_1]\n"
        "date_range: last_7_days\n"
        f"destination: {destination}\n"
    )
    return path


def _saved_url() -> str:
    store = SourceStore(load_settings())
    try:
        return store.destination_url("shop")
    finally:
        store.close()


def test_cli_create_list_show_run_never_shows_the_password(
    authorizer: str,
    schema: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    stored_bytes: Callable[[], bytes],
) -> None:
    caplog.set_level(logging.DEBUG)  # every log line of the session, drivers' included
    url = f"postgresql://pinads:{SECRET}@127.0.0.1:5432/test?schema={schema}"
    shown = f"postgresql://pinads:***@127.0.0.1:5432/test?schema={schema}"
    code, output = _invoke("sources", "create", "--file", str(_source_file(tmp_path, url)))
    assert code == 0, output
    assert _saved_url() == url
    assert SECRET.encode() not in stored_bytes()

    code, listed = _invoke("sources", "list")
    assert code == 0 and shown in listed, listed
    code, show = _invoke("sources", "show", "shop")
    assert code == 0 and f"destination: {shown}" in show, show
    assert "keeps it with `pinads sources edit shop -f FILE`" in show

    code, run = _invoke("run", "shop")
    assert code == 0, run
    assert f"rows into shop ({shown})" in run
    with psycopg.connect(PG) as conn:
        rows = conn.execute(f'SELECT count(*), min(_pinads_source) FROM "{schema}".shop').fetchone()
    assert rows is not None and rows[0] > 0 and rows[1] == "shop"

    code, history = _invoke("runs", "shop")
    assert code == 0 and "succeeded" in history
    for output in (listed, show, run, history, caplog.text):
        assert SECRET not in output
    assert caplog.records  # the run logged (so the check above looked at something)
    assert SECRET.encode() not in stored_bytes()


def test_show_output_edits_back_keeping_the_password(
    authorizer: str, schema: str, tmp_path: Path
) -> None:
    url = f"postgresql://pinads:{SECRET}@127.0.0.1:5432/test?schema={schema}"
    assert _invoke("sources", "create", "--file", str(_source_file(tmp_path, url)))[0] == 0
    assert _invoke("run", "shop")[0] == 0  # a written table: its destination may not change
    code, show = _invoke("sources", "show", "shop")
    exported = tmp_path / "exported.yaml"
    exported.write_text(show.split("\n(the destination's")[0].replace("last_7_days", "yesterday"))

    code, output = _invoke("sources", "edit", "shop", "--file", str(exported))
    assert code == 0, output
    assert _saved_url() == url

    moved = _source_file(tmp_path, f"postgresql://pinads:***@localhost:5432/test?schema={schema}")
    code, output = _invoke("sources", "edit", "shop", "--file", str(moved))
    assert code == 2, output
    assert "server or user changed: type its password again" in output
    assert _saved_url() == url

    code, output = _invoke("run", "shop")
    assert code == 0, output


def test_password_from_the_environment(
    authorizer: str, schema: str, tmp_path: Path, stored_bytes: Callable[[], bytes]
) -> None:
    template = "postgresql://pinads:${PINADS_TEST_PG_PASSWORD}@127.0.0.1:5432/test"
    path = _source_file(tmp_path, f"{template}?schema={schema}")
    code, output = _invoke("sources", "create", "--file", str(path))
    assert code == 2
    assert output.strip().endswith(
        "the destination refers to ${PINADS_TEST_PG_PASSWORD} but the environment has no "
        "variable PINADS_TEST_PG_PASSWORD (export it before running pinads, or write the value "
        "in the file)"
    )
    env = {"PINADS_TEST_PG_PASSWORD": "p@ss/w:rd"}
    code, output = _invoke("sources", "create", "--file", str(path), env=env)
    assert code == 0, output
    expected = f"postgresql://pinads:p%40ss%2Fw%3Ard@127.0.0.1:5432/test?schema={schema}"
    assert _saved_url() == expected
    assert b"p@ss/w:rd" not in stored_bytes() and b"p%40ss" not in stored_bytes()
    assert _invoke("run", "shop")[0] == 0


def test_new_source_with_the_mask_is_refused(authorizer: str, schema: str, tmp_path: Path) -> None:
    path = _source_file(tmp_path, f"postgresql://pinads:***@127.0.0.1:5432/test?schema={schema}")
    code, output = _invoke("sources", "create", "--file", str(path))
    assert code == 2
    assert "has *** for its password but no stored value" in output
    assert _invoke("sources", "list")[1].count("shop") == 0


def test_failures_name_the_server_never_the_password(authorizer: str, tmp_path: Path) -> None:
    outputs: list[str] = []
    for destination in (
        f"postgresql://pinads:{SECRET}@127.0.0.1:1/test",  # nothing listens on port 1
        f"postgresql://pinads:{SECRET}@127.0.0.1:5432/test?schema=bad-name",
        f"postgresql://pinads@127.0.0.1:5432/test?password={SECRET}&threads=x&nope=1",
    ):
        path = _source_file(tmp_path, destination)
        created, output = _invoke("sources", "create", "--file", str(path))
        outputs.append(output)
        if created == 0:
            code, output = _invoke("run", "shop")
            assert code != 0, output
            outputs += [output, _invoke("runs", "shop")[1]]
            assert _invoke("sources", "delete", "shop", "--yes")[0] == 0
    for text in outputs:
        assert SECRET not in text, text
    text = "\n".join(outputs)
    assert "127.0.0.1:1 is not reachable" in text
    assert "password=***&threads=x" in text


AWKWARD_SECRETS = ("Kq7v/Wz4m#Xr8t", "Pw9j?q=Hv3n", "Hs6b#Ed2w/Qm5k@Zt8p")


def test_passwords_with_unencoded_delimiters_never_show(
    authorizer: str, tmp_path: Path, stored_bytes: Callable[[], bytes]
) -> None:
    """`create` refuses them (ambiguous), quoting none of the password; a source saved with one
    by an older pinads is listed, shown and refused at run with `***` for all of it."""
    from pinads.sources.config import SourceConfig

    outputs: list[str] = []
    for secret in AWKWARD_SECRETS:
        url = f"postgresql://pinads:{secret}@127.0.0.1:5432/test?schema=ads"
        code, output = _invoke("sources", "create", "--file", str(_source_file(tmp_path, url)))
        assert code == 2 and "percent-encode them" in output, output
        outputs.append(output)
        document = yaml.safe_load(_source_file(tmp_path, url).read_text())
        store = SourceStore(load_settings())
        try:
            store.save(SourceConfig.model_validate(document))
        finally:
            store.close()
        for command in (["sources", "list"], ["sources", "show", "shop"], ["run", "shop"]):
            outputs.append(_invoke(*command)[1])
        assert "postgresql://pinads:***@127.0.0.1:5432/test?schema=ads" in outputs[-3]
        stored = stored_bytes()
        assert _invoke("sources", "delete", "shop", "--yes")[0] == 0
        for piece in [secret, *(secret[i : i + 4] for i in range(0, len(secret) - 3, 5))]:
            assert all(piece not in text for text in outputs), piece
            assert piece.encode() not in stored


def test_the_wizard_neither_echoes_nor_stores_the_password(
    authorizer: str, schema: str, stored_bytes: Callable[[], bytes]
) -> None:
    url = f"postgresql://pinads:{SECRET}@127.0.0.1:5432/test?schema={schema}"
    answers = [
        "shop",
        "campaign_analytics",
        authorizer,
        EUR_ADVERTISER_ID,
        "DATE AD_ACCOUNT_ID CAMPAIGN_ID",
        "SPEND_IN_MICRO_DOLLAR IMPRESSION_1",
        "DAY",
        "last_7_days",
        "extracted_at",
        "none",
        "n",
        url,
        "upsert",
        "n",
    ]
    result = runner.invoke(app, ["sources", "create"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert f"destination: postgresql://pinads:***@127.0.0.1:5432/test?schema={schema}" in (
        result.output
    )
    assert _saved_url() == url
    assert SECRET.encode() not in stored_bytes()
