"""Shared fixtures: every test gets its own PINADS_HOME."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def pinads_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "pinads-home"
    monkeypatch.setenv("PINADS_HOME", str(home))
    monkeypatch.delenv("PINADS_DATABASE_URL", raising=False)
    monkeypatch.delenv("PINADS_SECRET_KEY", raising=False)
    yield home
