from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from pinads.sources.validate import parse_config

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_is_a_valid_source(path: Path) -> None:
    config, dataset = parse_config(yaml.safe_load(path.read_text()), today=date(2026, 11, 28))
    assert config.name == path.stem and dataset.name == config.dataset


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3
