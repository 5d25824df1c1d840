"""One destination per parameter: DuckDB, PostgreSQL and each file format."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# The suite's helpers live next to it; importlib import mode does not put this folder on the path.
sys.path.insert(0, str(Path(__file__).parent))

from contract_helpers import KIND_OF_TARGET, PG_DSN, Target, postgres_available, target_url

from pinads.load import Destination

KINDS = tuple(KIND_OF_TARGET)


@pytest.fixture(params=KINDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    kind = str(request.param)
    schema = f"pinads_t_{uuid.uuid4().hex[:12]}"
    if kind == "postgres" and not postgres_available():
        pytest.skip(f"PostgreSQL is not running at {PG_DSN}")
    tgt = Target(kind=kind, url=target_url(kind, tmp_path, schema))
    yield tgt
    for dest in tgt.opened:
        dest.close()
    if kind == "postgres":
        import psycopg

        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def dest(target: Target) -> Destination:
    return target.open()
