"""/_emulator/clock: read, set, move; bad changes are 400 and leave the clock where it was."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from .conftest import TODAY

CLOCK = "/_emulator/clock"


def _clock(client: httpx.Client) -> dict[str, str]:
    body: dict[str, str] = client.get(CLOCK).json()
    return body


def test_read_set_and_move(client: httpx.Client) -> None:
    start = _clock(client)
    assert start["today"] == TODAY.isoformat()
    assert datetime.fromisoformat(start["now"]).date() == TODAY
    assert client.post(CLOCK, json={"today": "2026-07-01"}).json()["today"] == "2026-07-01"
    moved = client.post(CLOCK, json={"advance_days": 2, "advance_seconds": 3600}).json()
    assert moved["today"] == "2026-07-03"
    back = client.post(CLOCK, json={"advance_days": -33}).json()
    assert date.fromisoformat(back["today"]) == date(2026, 7, 3) - timedelta(days=33)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1], "body must be a JSON object"),
        ({"today": "x"}, "invalid clock change: Invalid isoformat string: 'x'"),
        ({"advance_days": None}, "invalid clock change: advance_days must be a number"),
        ({"advance_days": "2"}, "invalid clock change: advance_days must be a number"),
        ({"advance_seconds": True}, "invalid clock change: advance_seconds must be a number"),
        *(
            (change, "invalid clock change: the clock must stay between 1971-01-01 and 2999-12-31")
            for change in (
                {"advance_days": 1e300},
                {"advance_seconds": 1e20},
                {"advance_days": -1e9},
                {"advance_days": 1e7},
                {"today": "9999-12-31"},
                {"today": "1900-01-01"},
            )
        ),
    ],
)
def test_bad_changes_are_400_and_change_nothing(
    client: httpx.Client, body: Any, message: str
) -> None:
    before = _clock(client)["today"]
    response = client.post(CLOCK, json=body)
    assert response.status_code == 400
    assert response.json() == {"code": 1, "message": message}
    assert _clock(client)["today"] == before
