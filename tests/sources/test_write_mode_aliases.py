"""Dataddo's write-mode names, in any spelling, read as the pinads modes they mean."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pinads.cli import app
from pinads.errors import ConfigError
from pinads.runner import service
from pinads.settings import load_settings
from pinads.sources.validate import parse_config
from pinads.values import WriteMode

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("written", "mode"),
    [
        ("insert", WriteMode.APPEND),
        ("INSERT", WriteMode.APPEND),
        ("insert ignore", WriteMode.INSERT_IGNORE),
        ("Insert_Ignore", WriteMode.INSERT_IGNORE),
        ("insert-ignore", WriteMode.INSERT_IGNORE),
        ("truncate insert", WriteMode.REPLACE),
        ("TRUNCATE_INSERT", WriteMode.REPLACE),
        ("Truncate  Insert", WriteMode.REPLACE),
        ("upsert", WriteMode.UPSERT),
        ("UPSERT", WriteMode.UPSERT),
        (" append ", WriteMode.APPEND),
        ("replace", WriteMode.REPLACE),
    ],
)
def test_source_file_takes_dataddo_names(written: str, mode: WriteMode) -> None:
    document = yaml.safe_load(
        f"name: shop\ndataset: campaign_analytics\nauthorizer: demo\nwrite_mode: {written!r}\n"
    )
    config, _ = parse_config(document, today=TODAY)
    assert config.write_mode is mode
    assert config.to_document()["write_mode"] == mode.value  # saved as pinads' own name


def test_unknown_mode_lists_the_modes() -> None:
    document = {"name": "shop", "dataset": "campaign_analytics", "authorizer": "demo"}
    with pytest.raises(ConfigError) as caught:
        parse_config({**document, "write_mode": "merge"}, today=TODAY)
    assert "write_mode: Input should be 'upsert', 'append', 'replace' or 'insert_ignore'" in str(
        caught.value
    )


def test_cli_saves_a_dataddo_mode_as_its_pinads_mode(authorizer: str, tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(
        f"name: shop\ndataset: campaign_analytics\nauthorizer: {authorizer}\n"
        "write_mode: truncate insert\n"
    )
    result = CliRunner().invoke(app, ["sources", "create", "--file", str(path)])
    assert result.exit_code == 0, result.output
    saved = service.get_source("shop", settings=load_settings())
    assert saved.write_mode is WriteMode.REPLACE
