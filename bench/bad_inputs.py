"""Bad-input benchmark: how long pinads takes to refuse each case of the bad-input corpus, and
the headline cases of issue 11 as real processes (wall time and peak memory).

    .venv/bin/python bench/bad_inputs.py              # every corpus case once, plus headlines
    .venv/bin/python bench/bad_inputs.py --slowest 15 # also list the 15 slowest cases

The corpus (tests/contract/bad_inputs/ and tests/contract/bad_input_corpus.py) runs in-process
as the test does: CLI cases through `pinads.cli.main`, API cases through the web app. Prints
max and median per-case seconds per kind and overall (the issue wants every case under 2 s),
then one line per headline case: `pinads sources create --file` with the 1.4 KB alias bomb,
a 10 MB metric list and /dev/zero, and POST /api/sources with 100,000 metric names.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "contract"))

from bad_input_corpus import (  # the corpus lives with the tests
    Corpus,
    _bomb,
    api_cases,
    api_request,
    case_path,
    cli_cases,
    corpus_environment,
    run_cli,
    source_file_cases,
)

HEADLINE_CASES = frozenset(
    {"alias-bomb-9x9", "file-10-mb-metric-string", "dev-zero", "api-100k-metric-names"}
)


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def corpus_timings(corpus: Corpus) -> dict[str, list[tuple[str, float]]]:
    timings: dict[str, list[tuple[str, float]]] = {"source file": [], "cli": [], "api": []}
    for case in source_file_cases():
        path = case_path(corpus, case)
        seconds = _timed(partial(run_cli, ["sources", "create", "--file", str(path)]))
        timings["source file"].append((case.name, seconds))
    for cli in cli_cases():
        args = [arg.replace("{dir}", str(corpus.files)) for arg in cli.args]
        timings["cli"].append((cli.name, _timed(partial(run_cli, args))))
    for api in api_cases():
        timings["api"].append((api.name, _timed(partial(api_request, corpus, api))))
    return timings


def _summary(label: str, rows: list[tuple[str, float]]) -> dict[str, object]:
    seconds = [s for _, s in rows]
    slowest = max(rows, key=lambda row: row[1])
    return {
        "kind": label,
        "cases": len(rows),
        "max_s": round(max(seconds), 3),
        "median_s": round(statistics.median(seconds), 4),
        "slowest": slowest[0],
        "over_2s": sum(s >= 2 for s in seconds),
    }


def headline(corpus: Corpus, work: Path) -> list[dict[str, object]]:
    """Issue 11's cases as the user meets them: a real `pinads` process each."""
    bomb = work / "bomb.yaml"
    bomb.write_bytes(_bomb(9, 9))
    big = work / "big.yaml"
    names = ",".join(f"M{i}" for i in range(1_200_000))
    big.write_text(
        f'name: big\ndataset: campaign_analytics\nauthorizer: demo\nmetrics: "{names}"\n'
    )
    results = [
        _process(f"alias bomb ({bomb.stat().st_size} B)", ["sources", "create", "-f", str(bomb)]),
        _process(
            f"metric list ({big.stat().st_size / 1e6:.1f} MB)",
            ["sources", "create", "-f", str(big)],
        ),
        _process("/dev/zero as source file", ["sources", "create", "-f", "/dev/zero"]),
    ]
    body = {"name": "shop", "dataset": "campaign_analytics", "authorizer": "demo"}
    body["metrics"] = [f"M{i}" for i in range(100_000)]  # type: ignore[assignment]
    headers = {"Authorization": f"Bearer {corpus.token}"}
    started = time.perf_counter()
    response = corpus.client.post("/api/sources", json=body, headers=headers)
    results.append(
        {
            "case": "POST /api/sources, 100,000 metric names",
            "seconds": round(time.perf_counter() - started, 3),
            "status": response.status_code,
            "answer": str(response.json().get("detail"))[:120],
        }
    )
    return results


# Runs the CLI and, at exit, reports its own peak RSS (VmHWM; rusage's ru_maxrss would include
# the benchmark's memory, which a child inherits through fork and keeps across exec).
_PEAK_WRAPPER = """
import atexit, sys
def _peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            sys.stderr.write("\\n@peak_kib " + line.split()[1] + "\\n")
atexit.register(_peak)
sys.argv = ["pinads", *sys.argv[1:]]
from pinads.cli import main
main()
"""


def _process(label: str, args: list[str]) -> dict[str, object]:
    """Wall time, exit code, peak RSS and the stderr line of a real `pinads` process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_WRAPPER, *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds = time.perf_counter() - started
    answer, _, peak = done.stderr.rpartition("@peak_kib ")
    return {
        "case": label,
        "seconds": round(seconds, 3),
        "exit": done.returncode,
        "peak_rss_mib": round(int(peak.strip() or 0) / 1024, 1),
        "answer": answer.strip()[:140],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slowest", type=int, default=0, help="List the N slowest cases.")
    options = parser.parse_args()
    patch = pytest.MonkeyPatch()
    with tempfile.TemporaryDirectory() as tmp, corpus_environment(Path(tmp), patch) as corpus:
        timings = corpus_timings(corpus)
        every = [row for rows in timings.values() for row in rows]
        for label, rows in timings.items():
            print(json.dumps(_summary(label, rows)))
        print(json.dumps(_summary("all", every)))
        for name, seconds in sorted(every, key=lambda row: -row[1])[: options.slowest]:
            print(json.dumps({"case": name, "seconds": round(seconds, 3)}))
        for name, seconds in every:  # the cases, refused in-process
            if name in HEADLINE_CASES:
                print(json.dumps({"in_process": name, "seconds": round(seconds, 4)}))
        for result in headline(corpus, Path(tmp)):
            print(json.dumps(result))
    patch.undo()


if __name__ == "__main__":
    main()
