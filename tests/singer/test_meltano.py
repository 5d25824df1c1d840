"""The example Meltano project (examples/meltano) with Meltano from the package index:
`meltano run tap-pinads target-duckdb` loads the same table as a direct `pinads run` of the
same source."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from pinads.emulator import EUR_ADVERTISER_ID

from .tapkit import BIN, comparable, direct_run, source_yaml
from .venvs import ROOT, duckdb_rows, tool


def _project(tmp_path: Path, target: Path) -> Path:
    """The example project, pointed at this test's authorizer and one ad account, with the
    target from its venv (the example installs it with `meltano install` instead)."""
    project = tmp_path / "meltano"
    project.mkdir()
    document = yaml.safe_load((ROOT / "examples/meltano/meltano.yml").read_text())
    extractor = document["plugins"]["extractors"][0]
    extractor["config"].update(
        name="shop",
        authorizer="demo",
        accounts=f'["{EUR_ADVERTISER_ID}"]',
        date_range="last_7_days",
    )
    loader = document["plugins"]["loaders"][0]
    del loader["pip_url"]
    loader["executable"] = str(target)
    (project / "meltano.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    return project


def _meltano(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",  # tap-pinads, as the example expects
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return subprocess.run(
        [str(tool("meltano", "meltano")), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_meltano_run_loads_the_rows_of_a_direct_run(authorizer: str, tmp_path: Path) -> None:
    target = tool("target-duckdb", "target-duckdb")
    project = _project(tmp_path, target)
    result = _meltano(project, "run", "tap-pinads", "target-duckdb")
    assert result.returncode == 0, result.stderr[-4000:]
    state = _meltano(project, "state", "get", "dev:tap-pinads-to-target-duckdb")
    # Meltano kept the tap's last STATE for the next run (test_targets covers a run from one).
    assert '"replication_key_value"' in state.stdout, state.stderr[-2000:]
    loaded = duckdb_rows("target-duckdb", project / "pinads.duckdb", "pinterest.shop")
    expected = direct_run(
        source_yaml(tmp_path, accounts=(EUR_ADVERTISER_ID,), date_range="last_7_days")
    )
    assert len(loaded) == len(expected)
    assert comparable(loaded) == comparable(expected)
