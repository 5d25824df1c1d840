"""Unbounded input is refused before it costs time or memory (issue 11, "Unbounded input").

Nothing here measures time: each test asserts the deterministic reason the work stays bounded
(refused before expansion, before reading past the cap, before a suggestion per name).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from string import ascii_uppercase, digits

import pytest

from pinads.catalog import DATASETS, validate_selection
from pinads.catalog.rules import MAX_SUGGESTED_NAMES
from pinads.errors import ConfigError
from pinads.sources.limits import MAX_LIST_ITEMS
from pinads.sources.reading import (
    MAX_SOURCE_FILE_BYTES,
    MAX_YAML_ALIASES,
    load_source_text,
    read_source_file,
)
from pinads.sources.validate import document_problems, raise_problems

TODAY = date(2026, 6, 15)
BASE = {"name": "shop", "dataset": "campaign_analytics", "authorizer": "demo"}


def alias_bomb(levels: int = 9) -> str:
    """The billion laughs: 9 aliases of 9 aliases ... of a 9-item list (about 500 bytes)."""
    lines = ["name: bomb", "dataset: campaign_analytics", "authorizer: demo"]
    lines.append("metrics: &a0 [" + ", ".join(['"lol"'] * 9) + "]")
    for level in range(1, levels):
        lines.append(f"x{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_before_expansion(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb())
    assert path.stat().st_size < 1500
    with pytest.raises(ConfigError, match=f"more than {MAX_YAML_ALIASES} YAML aliases"):
        read_source_file(path)


def test_few_aliases_that_expand_to_a_huge_document_are_refused() -> None:
    # 16 aliases, each doubling a 1,000-item list: 256,000 items from a few KB.
    lines = ["a0: &a0 [" + ", ".join(["x"] * 1000) + "]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 9)]
    with pytest.raises(ConfigError, match="expands to more than"):
        load_source_text("\n".join(lines))


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(ConfigError, match="recursive YAML alias"):
        load_source_text("metrics: &m [SPEND_IN_DOLLAR, *m]")


def test_a_few_plain_aliases_still_work() -> None:
    document = load_source_text("a: &m [SPEND_IN_DOLLAR]\nmetrics: *m\nattributes: [*m]")
    assert document == {
        "a": ["SPEND_IN_DOLLAR"],
        "metrics": ["SPEND_IN_DOLLAR"],
        "attributes": [["SPEND_IN_DOLLAR"]],
    }


def test_a_file_is_read_up_to_the_cap_only(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("name: big\nmetrics: [" + "SPEND_IN_DOLLAR, " * 50_000 + "]\n")
    assert path.stat().st_size > MAX_SOURCE_FILE_BYTES
    with pytest.raises(ConfigError, match="larger than 256 KiB"):
        read_source_file(path)


@pytest.mark.parametrize(
    ("path", "said"),
    [("/dev/zero", "a device, pipe or socket"), ("/dev/null", "a device, pipe or socket")],
)
def test_devices_are_refused_before_reading(path: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        read_source_file(Path(path))


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "source.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="a device, pipe or socket"):
        read_source_file(fifo)


def test_binary_junk_is_refused_as_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "junk.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        read_source_file(path)


def test_ten_megabytes_of_metric_names_are_refused_before_the_catalog() -> None:
    names = ",".join(f"M{i}" for i in range(1_200_000))
    problems = document_problems({**BASE, "metrics": names}, today=TODAY)[2]
    assert [(p.field, p.message.split(":")[0]) for p in problems] == [
        ("metrics", f"is {len(names):,} characters long")
    ]


def test_list_longer_than_any_dataset_is_refused_in_one_problem() -> None:
    metrics = [f"M{i}" for i in range(100_000)]
    problems = document_problems({**BASE, "metrics": metrics}, today=TODAY)[2]
    assert len(problems) == 1
    assert problems[0].field == "metrics"
    assert problems[0].message.startswith(f"lists 100,000 items: at most {MAX_LIST_ITEMS:,}")


def test_comma_separated_names_past_the_limit_are_refused_by_the_model() -> None:
    chars = ascii_uppercase + digits
    two_letters = [a + b for a in chars for b in chars]
    names = ",".join(two_letters[:1_200])  # short enough as text, too many names
    problems = document_problems({**BASE, "metrics": names}, today=TODAY)[2]
    assert [p.field for p in problems] == ["metrics"]
    assert "lists 1,200 names: at most 1,000" in problems[0].message


def test_suggestions_are_computed_for_the_first_unknown_names_only() -> None:
    dataset = DATASETS["campaign_analytics"]
    typos = [f"SPEND_IN_DOLAR_{i}" for i in range(900)]
    problems = validate_selection(dataset, attributes=["DATE"], metrics=typos)
    with_suggestions = [p for p in problems if p.suggestions]
    assert len(with_suggestions) == MAX_SUGGESTED_NAMES
    assert problems[-1].message.startswith(f"{900 - MAX_SUGGESTED_NAMES} more unknown metrics")


def test_an_error_lists_ten_problems_and_counts_the_rest() -> None:
    problems = document_problems(
        {**BASE, "metrics": [f"NOPE_{i}" for i in range(20)], "attributes": ["X", "Y"]},
        today=TODAY,
    )[2]
    with pytest.raises(ConfigError) as caught:
        raise_problems([*problems, *problems], what="source 'shop'")
    assert "more (fix these first)" in str(caught.value)
    assert "\n" not in str(caught.value)
