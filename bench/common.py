"""What several benchmarks share: the repository root, the typical 30 analytics metrics, and a
loopback `pinads emulator` in its own process (so its CPU and memory are never the client's)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

__all__ = ["ROOT", "TYPICAL_METRICS", "free_port", "start_emulator"]

ROOT = Path(__file__).resolve().parent.parent

# A typical report: spend, delivery, engagement and conversion columns, as a dashboard asks.
TYPICAL_METRICS = (
    "SPEND_IN_MICRO_DOLLAR",
    "IMPRESSION_1",
    "IMPRESSION_2",
    "CLICKTHROUGH_1",
    "CLICKTHROUGH_2",
    "OUTBOUND_CLICK_1",
    "OUTBOUND_CLICK_2",
    "REPIN_1",
    "REPIN_2",
    "ENGAGEMENT_1",
    "ENGAGEMENT_2",
    "TOTAL_ENGAGEMENT",
    "TOTAL_IMPRESSION",
    "TOTAL_CLICKTHROUGH",
    "CTR",
    "CPC_IN_MICRO_DOLLAR",
    "CPM_IN_MICRO_DOLLAR",
    "ECPC_IN_MICRO_DOLLAR",
    "ECPM_IN_MICRO_DOLLAR",
    "TOTAL_CONVERSIONS",
    "TOTAL_CHECKOUT",
    "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
    "TOTAL_CLICK_CHECKOUT",
    "TOTAL_VIEW_CHECKOUT",
    "TOTAL_SIGNUP",
    "TOTAL_LEAD",
    "TOTAL_PAGE_VISIT",
    "TOTAL_ADD_TO_CART",
    "VIDEO_MRC_VIEWS_2",
    "PIN_PROMOTION_ID",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_emulator(port: int) -> subprocess.Popen[bytes]:
    """`pinads emulator` on `port`, consent pages approved without a browser, once it accepts
    connections."""
    cmd = [str(ROOT / ".venv/bin/pinads"), "emulator", "--port", str(port), "--auto-approve"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the emulator did not start within 60 s")
