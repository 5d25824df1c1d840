"""Services phrase "what to do" for the command line; the pages say it in their own words."""

from __future__ import annotations

import pytest

from pinads.web.common import for_web


@pytest.mark.parametrize(
    ("message", "page", "cli"),
    [
        (
            "source 'shop' is already running (run 0123abcd, pid 4242 on host-7, since "
            "2026-12-05 10:00:00 UTC): wait for it to finish - `pinads runs shop` shows it",
            "source 'shop' is already running (since 2026-12-05 10:00:00 UTC): wait for it to "
            "finish: the run history shows it",
            "pid 4242",
        ),
        (
            "No data retrieved: why; check with `pinads preview shop`, or set allow_empty: true "
            "if an empty result is expected",
            'No data retrieved: why; check with Test Data (Edit, last step), or tick "Allow '
            'Empty Data Extractions" (Edit, Snapshot step) if no data is expected',
            "allow_empty: true",
        ),
        (
            "interrupted: its process (host-7 pid 99) is gone; `pinads backfill shop --from "
            "2026-01-01 --to 2026-02-01` resumes it from its checkpoints",
            "interrupted: the server process running it stopped; a backfill from 2026-01-01 to "
            "2026-02-01 (Backfill on the source's page) resumes it from its checkpoints",
            "pinads backfill",
        ),
        (
            "nothing was stored: get a new refresh token, or authorize in the browser (leave "
            "out --refresh-token)",
            "nothing was stored: get a new refresh token, or authorize with Continue to "
            "Pinterest instead",
            "--refresh-token",
        ),
    ],
)
def test_cli_advice_becomes_page_words(message: str, page: str, cli: str) -> None:
    assert cli in message
    assert for_web(message) == page
