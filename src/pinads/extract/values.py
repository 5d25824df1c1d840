"""Value by value conversion of API values to Arrow: the slow, exact path.

Used when a column cannot go to Arrow in one piece: CSV report cells (strings), epoch times,
objects stored as JSON text. Whole numbers stay exact (Decimal, never float); a fraction where
a whole number belongs is an error, not a silent truncation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
import pyarrow as pa

from pinads.catalog.model import ColumnType, FieldEncoding
from pinads.errors import ExtractError

__all__ = ["array_from_values", "exact_int"]


def exact_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        exact = Decimal(str(value))
    except InvalidOperation:
        raise ExtractError(f"Pinterest sent {value!r:.40} where a whole number belongs") from None
    if exact != exact.to_integral_value():
        raise ExtractError(f"Pinterest sent {value!r:.40} where a whole number belongs")
    return int(exact)


def _float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _timestamp(value: Any, encoding: FieldEncoding) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and not value.lstrip("-").replace(".", "", 1).isdigit():
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    seconds = float(value) / (1000 if encoding is FieldEncoding.UNIX_MILLIS else 1)
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _text(value: Any, encoding: FieldEncoding) -> str | None:
    if value is None:
        return None
    if encoding is FieldEncoding.JSON and not isinstance(value, str):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return str(value)


def array_from_values(values: list[Any], col_type: ColumnType, encoding: FieldEncoding) -> pa.Array:
    """Arrow array of `values`, converting each value exactly."""
    arrow_type = col_type.arrow()
    if col_type is ColumnType.STRING:
        if encoding is FieldEncoding.PLAIN:
            try:  # already strings (or None): no conversion needed
                return pa.array(values, type=arrow_type)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass
        return pa.array([_text(v, encoding) for v in values], type=arrow_type)
    if col_type is ColumnType.TIMESTAMP:
        return pa.array([_timestamp(v, encoding) for v in values], type=arrow_type)
    convert = _CONVERTERS[col_type]
    return pa.array([convert(v) for v in values], type=arrow_type)


_CONVERTERS: dict[ColumnType, Any] = {
    ColumnType.INT64: exact_int,
    ColumnType.FLOAT64: _float,
    ColumnType.DATE: _date,
    ColumnType.BOOL: _bool,
}
