"""The streaming report parser: every layout, chunk boundaries anywhere, broken files."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from pinads.api import report_rows
from pinads.api.reports import iter_report_rows
from pinads.errors import ExtractError

ROWS = [
    {"CAMPAIGN_ID": "626000000001", "DATE": "2026-01-01", "SPEND_IN_MICRO_DOLLAR": 1234567},
    {"CAMPAIGN_ID": "626000000001", "DATE": "2026-01-02", "SPEND_IN_MICRO_DOLLAR": 0.5},
    {"CAMPAIGN_ID": "626000000002", "DATE": "2026-01-01", "NAME": 'brace } "quote" ünï'},
]
BY_ID = {"626000000001": ROWS[:2], "626000000002": ROWS[2:]}
BY_DATE = {
    "2026-01-01": {"626000000001": [ROWS[0]], "626000000002": [ROWS[2]]},
    "2026-01-02": {"626000000001": [ROWS[1]]},
}


def _rows(document: Any, *, indent: int | None = None) -> list[dict[str, Any]]:
    data = json.dumps(document, indent=indent, ensure_ascii=False).encode()
    return list(iter_report_rows(io.BytesIO(data), "JSON"))


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("indent", [None, 2])
def test_layouts_and_chunk_boundaries(
    monkeypatch: pytest.MonkeyPatch, chunk: int, indent: int | None
) -> None:
    monkeypatch.setattr(report_rows, "_CHUNK_BYTES", chunk)
    assert _rows(BY_ID, indent=indent) == ROWS
    assert sorted(_rows(BY_DATE, indent=indent), key=json.dumps) == sorted(ROWS, key=json.dumps)
    assert _rows(ROWS, indent=indent) == ROWS
    assert _rows({}, indent=indent) == []
    assert _rows({"1": []}, indent=indent) == []


def test_empty_file_has_no_rows() -> None:
    assert list(iter_report_rows(io.BytesIO(b""), "JSON")) == []
    assert list(iter_report_rows(io.BytesIO(b"  \n"), "JSON")) == []


@pytest.mark.parametrize(
    "broken",
    [b'{"1": [{"A": 1}', b'{"1": [{"A": 1}] x', b'{"1" [', b"[1, 2", b'{"1": [{"A": 1},]}'],
)
def test_broken_json_is_an_extract_error(broken: bytes) -> None:
    with pytest.raises(ExtractError, match="not valid JSON"):
        list(iter_report_rows(io.BytesIO(broken), "JSON"))


def test_csv_rows_with_bom() -> None:
    data = "\ufeffCAMPAIGN_ID,DATE,SPEND_IN_MICRO_DOLLAR\n1,2026-01-01,5\n2,2026-01-01,0\n"
    rows = list(iter_report_rows(io.BytesIO(data.encode()), "CSV"))
    assert rows == [
        {"CAMPAIGN_ID": "1", "DATE": "2026-01-01", "SPEND_IN_MICRO_DOLLAR": "5"},
        {"CAMPAIGN_ID": "2", "DATE": "2026-01-01", "SPEND_IN_MICRO_DOLLAR": "0"},
    ]


def test_large_report_streams_in_bounded_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracemalloc

    row = {"CAMPAIGN_ID": "626000000001", "DATE": "2026-01-01", "SPEND_IN_MICRO_DOLLAR": 1}
    document = {str(626000000000 + i): [row] * 20 for i in range(2000)}
    data = json.dumps(document).encode()
    monkeypatch.setattr(report_rows, "_CHUNK_BYTES", 64 * 1024)
    tracemalloc.start()
    try:
        count = 0
        for _ in iter_report_rows(io.BytesIO(data), "JSON"):
            count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 40_000
    assert len(data) > 3_000_000
    # About one chunk (as text) plus a row, not the document.
    assert peak < len(data) / 5
