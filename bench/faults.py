"""Faults and kills: what `pinads` does when its destination is down, when it is SIGKILLed, and
when its control DB is deleted mid-run. Every case runs the real CLI in a subprocess against a
loopback emulator; the emulator counts the API calls it answers.

    .venv/bin/python bench/faults.py [--kills 12] [--seed 11]

Prints three tables (markdown) for docs/reliability.md:
- destination down: an unreachable PostgreSQL (a closed port), a DuckDB file locked by another
  process, a files destination on a path that cannot be a directory: time to the error, exit
  code, lines on stderr, traceback or not, API calls spent;
- killed runs: `pinads run` and `pinads backfill` SIGKILLed after a seeded random delay, run
  again to the end, and the table compared with a clean single run (rows duplicated, lost,
  values differing) with what the next run said;
- control DB deleted while a backfill writes: what the run reports and its exit code.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EUR_ADVERTISER_ID,
    EmulatorConfig,
    EmulatorServer,
)

PINADS = Path(sys.executable).parent / "pinads"
ACCOUNTS = [EUR_ADVERTISER_ID, "549755813003"]
KEY = "date, ad_account_id, campaign_id"
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Scope]]
Send = Callable[[Scope], Awaitable[None]]


class CallCounter:
    """ASGI middleware counting the API calls (not the emulator's own /_emulator endpoints)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v5"):
            with LOCK:
                CALLS[0] += 1
        await self.app(scope, receive, send)


CALLS = [0]
LOCK = threading.Lock()


def calls() -> int:
    with LOCK:
        return CALLS[0]


def pinads(*args: str, home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PINADS_HOME": str(home), "PINADS_ALLOWED_ROOTS": str(home.parent.parent)}
    env["COLUMNS"] = "200"
    return subprocess.Popen(
        [str(PINADS), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(*args: str, home: Path) -> tuple[int, str, str, float]:
    started = time.monotonic()
    proc = pinads(*args, home=home)
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err, time.monotonic() - started


def new_home(root: Path, name: str, server: EmulatorServer) -> Path:
    """A PINADS_HOME with the demo user's authorizer."""
    home = root / name / "home"
    home.mkdir(parents=True)
    minted = httpx.post(
        f"{server.base_url}/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}
    ).json()
    code = subprocess.run(
        [
            str(PINADS),
            "auth",
            "add",
            "--label",
            "demo",
            "--client-id",
            DEMO_CLIENT_ID,
            "--client-secret",
            DEMO_CLIENT_SECRET,
            "--refresh-token",
            minted["refresh_token"],
            "--api-url",
            server.api_url,
        ],
        env={**os.environ, "PINADS_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )
    if code.returncode != 0:
        raise SystemExit(f"auth add failed: {code.stderr or code.stdout}")
    return home


def source(home: Path, destination: str, *, date_range: str = "last_90_days") -> None:
    path = home.parent / "source.yaml"
    path.write_text(
        "name: ads\ndataset: campaign_analytics\nauthorizer: demo\n"
        f"accounts: [{', '.join(ACCOUNTS)}]\n"
        "attributes: [DATE, AD_ACCOUNT_ID, CAMPAIGN_ID]\n"
        "metrics: [SPEND_IN_MICRO_DOLLAR, IMPRESSION_1, CLICKTHROUGH_1]\n"
        f"date_range: {date_range}\ndestination: {destination}\n"
    )
    code, out, err, _ = finished("sources", "create", "--file", str(path), home=home)
    if code != 0:
        raise SystemExit(f"sources create failed: {err or out}")


# -- destination down --------------------------------------------------------------------------


def destination_down(root: Path, server: EmulatorServer) -> list[str]:
    rows = ["| destination | exit | time to the error | stderr lines | traceback | API calls |"]
    rows.append("|---|---|---|---|---|---|")
    locked = root / "locked.duckdb"
    blocker = root / "not-a-dir"
    blocker.write_text("a file where the dataset directory would go")
    cases = {
        "PostgreSQL on a closed port (127.0.0.1:1)": "postgresql://pinads:pw@127.0.0.1:1/test",
        "DuckDB file locked by another process": f"duckdb://{locked}",
        "files under a path that is a file": f"file://{blocker}/sub?format=csv",
    }
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(locked)!r}); "
            "c.execute('create table if not exists x(i int)'); print('ok', flush=True); "
            "time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
    try:
        for i, (label, url) in enumerate(cases.items()):
            home = new_home(root, f"down{i}", server)
            source(home, url)
            before = calls()
            code, _, err, took = finished("run", "ads", home=home)
            lines = [line for line in err.splitlines() if line.strip()]
            rows.append(
                f"| {label} | {code} | {took:.2f} s | {len(lines)} | "
                f"{'yes' if 'Traceback' in err else 'no'} | {calls() - before} |"
            )
            print(f"  {label}: {lines[-1] if lines else '(no stderr)'}", file=sys.stderr)
    finally:
        holder.kill()
        holder.wait()
    return rows


# -- kills -------------------------------------------------------------------------------------


def table(path: Path) -> dict[tuple[object, ...], tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        found = conn.execute(
            f"SELECT {KEY}, spend_in_micro_dollar, impression_1, clickthrough_1 FROM ads"
        ).fetchall()
    return {row[:3]: row[3:] for row in found}


def duplicates(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as conn:
        count = conn.execute(f"SELECT count(*) - count(DISTINCT ({KEY})) FROM ads").fetchone()
    return int(count[0]) if count else 0


def kills(root: Path, server: EmulatorServer, *, count: int, seed: int) -> list[str]:
    today = server.state.today()
    start, end = today - timedelta(days=400), today - timedelta(days=31)
    commands = {
        "run": ["run", "ads"],
        "backfill": ["backfill", "ads", "--from", str(start), "--to", str(end)],
    }
    rng = random.Random(seed)
    rows = [
        "| command | kill after | killed at | rerun exit | next run said | rows (clean) | "
        "duplicated | lost | values differ |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, args in commands.items():
        home = new_home(root, f"clean-{kind}", server)
        source(home, f"duckdb://{home.parent / 'ads.duckdb'}")
        code, out, err, took = finished(*args, home=home)
        if code != 0:
            raise SystemExit(f"clean {kind} failed: {err or out}")
        clean = table(home.parent / "ads.duckdb")
        for n in range(count // 2):
            delay = rng.uniform(0.3, took)
            home = new_home(root, f"kill-{kind}-{n}", server)
            path = home.parent / "ads.duckdb"
            source(home, f"duckdb://{path}")
            proc = pinads(*args, home=home)
            time.sleep(delay)
            state = "killed" if proc.poll() is None else "had ended"
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            code, out, err, _ = finished(*args, home=home)
            said = " ".join((out.strip().splitlines() or [err.strip()])[-1:])[:90]
            got = table(path) if code == 0 else {}
            lost = len(clean.keys() - got.keys())
            differ = sum(1 for k in clean.keys() & got.keys() if clean[k] != got[k])
            rows.append(
                f"| {kind} | {delay:.2f} s | {state} | {code} | {said} | {len(clean)} | "
                f"{duplicates(path) if code == 0 else '-'} | {lost} | {differ} |"
            )
    return rows


# -- control DB deleted ------------------------------------------------------------------------


def control_db_deleted(root: Path, server: EmulatorServer) -> list[str]:
    home = new_home(root, "deleted", server)
    source(home, f"duckdb://{home.parent / 'ads.duckdb'}")
    today = server.state.today()
    args = ["backfill", "ads", "--from", str(today - timedelta(days=400)), "--to"]
    proc = pinads(*args, str(today - timedelta(days=31)), home=home)
    # Deleted once the run writes: its DuckDB file appears with the first step's rows.
    deadline = time.monotonic() + 120
    while not (home.parent / "ads.duckdb").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    for path in home.glob("pinads.db*"):
        path.unlink()
    out, err = proc.communicate(timeout=600)
    lines = [line for line in err.splitlines() if line.strip()]
    return [
        "| case | exit | stderr lines | traceback | last line |",
        "|---|---|---|---|---|",
        f"| control DB deleted once the backfill writes | {proc.returncode} | {len(lines)} | "
        f"{'yes' if 'Traceback' in err else 'no'} | {(lines or out.splitlines() or [''])[-1]} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--kills", type=int, default=12, help="kills in all (half run, half backfill)"
    )
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.1f}")
    with EmulatorServer(EmulatorConfig(seed=7, report_polls_until_finished=1)) as server:
        server.app.add_middleware(CallCounter)
        with tempfile.TemporaryDirectory(prefix="pinads-faults-") as tmp:
            root = Path(tmp)
            for title, rows in (
                ("Destination down", destination_down(root, server)),
                ("Control DB deleted mid-run", control_db_deleted(root, server)),
                ("Killed runs", kills(root, server, count=args.kills, seed=args.seed)),
            ):
                print(f"\n### {title}\n")
                print("\n".join(rows), flush=True)
    print(f"\nend {time.strftime('%H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
