"""JSON rows and CSV report rows become the same typed Arrow columns, exactly."""

from __future__ import annotations

from datetime import date

import orjson
import pyarrow as pa
import pytest

from pinads.catalog import get_dataset
from pinads.errors import ExtractError
from pinads.extract.normalize import RowContext, to_batches, typed_rows_decoder
from pinads.extract.table import build_table_spec, resolve_selection
from pinads.sources.config import SourceConfig

CONFIG = SourceConfig(
    name="t",
    dataset="campaign_analytics",
    authorizer="x",
    attributes=("DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID", "CAMPAIGN_NAME"),
    metrics=("SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CTR"),
    metadata=(),
)
SELECTION = resolve_selection(CONFIG, get_dataset("campaign_analytics"))
TABLE = build_table_spec(CONFIG, SELECTION)
CTX = RowContext(
    account={"id": "9", "currency": "EUR"},
    entities={"campaigns": {"5": {"name": "Spring"}}},
    constants={
        "_pinads_click_window_days": 30,
        "_pinads_engagement_window_days": 30,
        "_pinads_view_window_days": 1,
        "_pinads_conversion_report_time": "TIME_OF_AD_ACTION",
    },
)
BIG = 9_007_199_254_740_993  # 2**53 + 1: a double would round it


def _table(rows: list[dict[str, object]] | pa.Table) -> pa.Table:
    return pa.Table.from_batches(
        list(to_batches(rows, selection=SELECTION, table=TABLE, ctx=CTX)), schema=TABLE.schema
    )


def test_json_rows_keep_exact_integers_and_null_for_absent() -> None:
    table = _table(
        [
            {"DATE": "2026-11-01", "CAMPAIGN_ID": "5", "SPEND_IN_MICRO_DOLLAR": BIG, "CTR": 0.25},
            {"DATE": "2026-11-02", "CAMPAIGN_ID": "6", "IMPRESSION_1": 7},
        ]
    )
    rows = table.to_pylist()
    assert rows[0]["spend_in_micro_dollar"] == BIG
    assert rows[0]["impression_1"] is None and rows[1]["spend_in_micro_dollar"] is None
    assert rows[0]["campaign_name"] == "Spring" and rows[1]["campaign_name"] is None
    assert rows[0]["date"] == date(2026, 11, 1) and rows[0]["ad_account_id"] == "9"
    assert table.schema.field("spend_in_micro_dollar").type == pa.int64()


def test_csv_rows_equal_json_rows() -> None:
    json_rows = [
        {
            "DATE": "2026-11-01",
            "CAMPAIGN_ID": "5",
            "SPEND_IN_MICRO_DOLLAR": BIG,
            "IMPRESSION_1": 3,
            "CTR": 0.5,
        }
    ]
    csv_rows = [
        {
            "DATE": "2026-11-01",
            "CAMPAIGN_ID": "5",
            "SPEND_IN_MICRO_DOLLAR": str(BIG),
            "IMPRESSION_1": "3",
            "CTR": "0.5",
        }
    ]
    assert _table(csv_rows).equals(_table(json_rows))


def test_whole_floats_become_ints_but_fractions_are_refused() -> None:
    assert (
        _table([{"CAMPAIGN_ID": "5", "IMPRESSION_1": 4.0}]).column("impression_1")[0].as_py() == 4
    )
    with pytest.raises(ExtractError, match="where a whole number belongs"):
        _table([{"CAMPAIGN_ID": "5", "IMPRESSION_1": 4.5}])


def test_targeting_rows_are_flattened() -> None:
    config = CONFIG.model_copy(
        update={
            "dataset": "campaign_by_age_bucket",
            "attributes": ("DATE", "CAMPAIGN_ID", "TARGETING_TYPE", "TARGETING_VALUE"),
        }
    )
    selection = resolve_selection(config, get_dataset("campaign_by_age_bucket"))
    table = build_table_spec(config, selection)
    rows = [
        {
            "targeting_type": "AGE_BUCKET",
            "targeting_value": "25-34",
            "metrics": {"DATE": "2026-11-01", "CAMPAIGN_ID": "5", "IMPRESSION_1": 2},
        }
    ]
    batch = next(to_batches(rows, selection=selection, table=table, ctx=CTX))
    row = batch.to_pylist()[0]
    assert (row["targeting_value"], row["impression_1"], row["campaign_id"]) == ("25-34", 2, "5")


def test_typed_conversion_never_truncates_a_fraction() -> None:
    """Arrow would truncate 4.5 given for an int64 column: the fraction must be refused even
    after thousands of whole values."""
    rows: list[dict[str, object]] = [
        {"DATE": "2026-11-01", "CAMPAIGN_ID": str(i), "IMPRESSION_1": i} for i in range(5000)
    ]
    assert _table(rows).column("impression_1").to_pylist() == list(range(5000))
    rows.append({"DATE": "2026-11-01", "CAMPAIGN_ID": "x", "IMPRESSION_1": 4.5})
    with pytest.raises(ExtractError, match="where a whole number belongs"):
        _table(rows)


def test_mixed_ints_and_floats_in_a_float_metric_stay_exact() -> None:
    rows = [
        {"DATE": "2026-11-01", "CAMPAIGN_ID": "5", "CTR": 1, "SPEND_IN_MICRO_DOLLAR": True},
        {"DATE": "2026-11-02", "CAMPAIGN_ID": "5", "CTR": 0.1, "SPEND_IN_MICRO_DOLLAR": BIG},
    ]
    table = _table(rows)
    assert table.column("ctr").to_pylist() == [1.0, 0.1]
    assert table.column("spend_in_micro_dollar").to_pylist() == [1, BIG]


def _big_body(rows: int, **last: object) -> tuple[bytes, list[dict[str, object]]]:
    """A JSON answer of several MB (so the client parses it in slices)."""
    data: list[dict[str, object]] = [
        {
            "DATE": f"2026-11-{1 + i % 28:02d}",
            "CAMPAIGN_ID": str(5 + i % 3),
            "SPEND_IN_MICRO_DOLLAR": 2**52 + i if i % 7 else None,
            "IMPRESSION_1": i,
            "CTR": i / 7,
            "PADDING": "x" * 40,
        }
        for i in range(rows)
    ]
    data[-1].update(last)
    return orjson.dumps(data), data


def test_large_answers_are_converted_slice_by_slice_exactly() -> None:
    body, data = _big_body(40_000)
    assert len(body) > 4 * 2**20
    decoded = typed_rows_decoder(SELECTION)(body)
    assert isinstance(decoded, pa.Table)  # never a list of 40,000 dicts
    assert _table(decoded).equals(_table(data))
    assert _table(decoded).column("spend_in_micro_dollar")[1].as_py() == 2**52 + 1


@pytest.mark.parametrize(
    "last",
    [
        {"IMPRESSION_1": 4.5},  # a fraction in a whole-number metric
        {"SPEND_IN_MICRO_DOLLAR": BIG},  # beyond what a double holds exactly
        {"CAMPAIGN_NAME_NOTE": "},{"},  # a separator inside a string
        {"NESTED": [{"a": 1}, {"b": 2}]},  # one inside a nested value
    ],
)
def test_large_answers_fall_back_to_the_exact_path(last: dict[str, object]) -> None:
    body, data = _big_body(40_000, **last)
    decoded = typed_rows_decoder(SELECTION)(body)
    assert decoded == orjson.loads(body) or isinstance(decoded, pa.Table)
    if "IMPRESSION_1" in last:
        with pytest.raises(ExtractError, match="where a whole number belongs"):
            _table(decoded)
    else:
        assert _table(decoded).equals(_table(data))
